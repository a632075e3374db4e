SET ROLE minime_owner;

-- The cleanup as before this migration.
CREATE OR REPLACE FUNCTION ops.cleanup(p_at timestamptz)
  RETURNS TABLE (tbl text, removed bigint)
  LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp
  AS $$
DECLARE
  at timestamptz := greatest(now(), p_at);
  n bigint;
BEGIN
  DELETE FROM ops.rate_limits WHERE window_start < at - interval '1 day';
  GET DIAGNOSTICS n = ROW_COUNT; tbl := 'ops.rate_limits'; removed := n; RETURN NEXT;
  DELETE FROM auth.signin_failures
    WHERE updated_at < at - interval '1 day' AND (locked_until IS NULL OR locked_until < at);
  GET DIAGNOSTICS n = ROW_COUNT; tbl := 'auth.signin_failures'; removed := n; RETURN NEXT;
  DELETE FROM auth.email_tokens WHERE expires_at < at - interval '1 day';
  GET DIAGNOSTICS n = ROW_COUNT; tbl := 'auth.email_tokens'; removed := n; RETURN NEXT;
  -- A session's refresh tokens go with it (ON DELETE CASCADE).
  DELETE FROM auth.sessions
    WHERE expires_at < at - interval '7 days' OR revoked_at < at - interval '7 days';
  GET DIAGNOSTICS n = ROW_COUNT; tbl := 'auth.sessions'; removed := n; RETURN NEXT;
  DELETE FROM ops.idempotency_keys WHERE created_at < at - interval '24 hours';
  GET DIAGNOSTICS n = ROW_COUNT; tbl := 'ops.idempotency_keys'; removed := n; RETURN NEXT;
  DELETE FROM ops.outbox
    WHERE (sent_at < at - interval '30 days') OR (failed_at < at - interval '30 days');
  GET DIAGNOSTICS n = ROW_COUNT; tbl := 'ops.outbox'; removed := n; RETURN NEXT;
  DELETE FROM app.ai_previews WHERE expires_at < at - interval '1 day';
  GET DIAGNOSTICS n = ROW_COUNT; tbl := 'app.ai_previews'; removed := n; RETURN NEXT;
  DELETE FROM ops.jobs WHERE done_at < at - interval '7 days';
  GET DIAGNOSTICS n = ROW_COUNT; tbl := 'ops.jobs'; removed := n; RETURN NEXT;
  DELETE FROM app.rule_runs WHERE ran_at < at - interval '90 days';
  GET DIAGNOSTICS n = ROW_COUNT; tbl := 'app.rule_runs'; removed := n; RETURN NEXT;
END
$$;

DROP FUNCTION auth.gmail_reseal(text, text, bytea, bytea);
DROP FUNCTION auth.gmail_sealed();
DROP FUNCTION auth.gmail_take_state(bytea, timestamptz);
DROP TABLE auth.gmail_messages;
DROP TABLE auth.gmail_oauth_states;
DROP TABLE auth.gmail_accounts;

RESET ROLE;
