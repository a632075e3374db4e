SET ROLE minime_owner;

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
  DELETE FROM auth.gmail_oauth_states WHERE expires_at < at;
  GET DIAGNOSTICS n = ROW_COUNT; tbl := 'auth.gmail_oauth_states'; removed := n; RETURN NEXT;
END
$$;

CREATE OR REPLACE FUNCTION ops.admin_stats() RETURNS jsonb
  LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
  AS $$
DECLARE
  entities jsonb := '{}';
  t record;
  total bigint;
BEGIN
  PERFORM ops.admin_check();
  FOR t IN SELECT c.relname FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace s ON s.oid = c.relnamespace
           WHERE s.nspname = 'app' AND c.relkind = 'r' ORDER BY 1 LOOP
    EXECUTE format('SELECT count(*) FROM app.%I', t.relname) INTO total;
    entities := entities || jsonb_build_object(t.relname, total);
  END LOOP;
  RETURN jsonb_build_object(
    'users', (SELECT count(*) FROM auth.users),
    'locked_users', (SELECT count(*) FROM auth.users WHERE locked_at IS NOT NULL),
    'users_by_plan', (SELECT coalesce(jsonb_object_agg(plan, n), '{}') FROM (SELECT plan, count(*) AS n FROM auth.users GROUP BY plan) p),
    'signups_per_day', (SELECT coalesce(jsonb_agg(jsonb_build_object('date', d, 'count', n) ORDER BY d), '[]')
        FROM (SELECT (created_at AT TIME ZONE 'UTC')::date AS d, count(*) AS n FROM auth.users
              WHERE created_at >= now() - interval '30 days' GROUP BY 1) s),
    'active_users_per_day', (SELECT coalesce(jsonb_agg(jsonb_build_object('date', d, 'count', n) ORDER BY d), '[]')
        FROM (SELECT d, count(DISTINCT user_id) AS n FROM (
                SELECT user_id, (created_at AT TIME ZONE 'UTC')::date AS d FROM auth.sessions WHERE created_at >= now() - interval '30 days'
                UNION ALL
                SELECT user_id, (last_used_at AT TIME ZONE 'UTC')::date FROM auth.sessions WHERE last_used_at >= now() - interval '30 days') a
              GROUP BY d) s),
    'entities', entities,
    'integrations', jsonb_build_object(
        'calendar_connections', (SELECT count(*) FROM auth.calendar_connections),
        'calendar_events', (SELECT count(*) FROM auth.calendar_events),
        'calendar_failing', (SELECT count(*) FROM auth.calendar_connections WHERE last_error IS NOT NULL),
        'gmail_accounts', (SELECT count(*) FROM auth.gmail_accounts),
        'gmail_messages', (SELECT count(*) FROM auth.gmail_messages),
        'gmail_failing', (SELECT count(*) FROM auth.gmail_accounts WHERE last_error IS NOT NULL)),
    'outbox', jsonb_build_object(
        'pending', (SELECT count(*) FROM ops.outbox WHERE sent_at IS NULL AND failed_at IS NULL),
        'failed', (SELECT count(*) FROM ops.outbox WHERE failed_at IS NOT NULL),
        'oldest_pending_seconds', (SELECT coalesce(extract(epoch FROM now() - min(created_at))::bigint, 0)
                                   FROM ops.outbox WHERE sent_at IS NULL AND failed_at IS NULL))
  );
END
$$;

DROP FUNCTION auth.totp_reseal(text, bytea, bytea);
DROP FUNCTION auth.totp_sealed();
DROP FUNCTION auth.step_fail(bytea);
DROP FUNCTION auth.step_take(bytea, text, timestamptz);
DROP FUNCTION auth.step_challenge(bytea, text, jsonb, timestamptz);
DROP FUNCTION auth.step_peek(bytea, text, timestamptz);
DROP FUNCTION auth.step_keep(bytea, text, uuid, uuid, jsonb, text, timestamptz);
DROP TABLE auth.pending_steps;
DROP TABLE auth.passkeys;
DROP TABLE auth.recovery_codes;
DROP TABLE auth.totp_factors;
ALTER TABLE auth.sessions DROP COLUMN authenticated_at, DROP COLUMN auth_method;

RESET ROLE;
