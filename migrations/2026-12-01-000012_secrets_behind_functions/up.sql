-- Tables holding live secrets (mailed links, refresh tokens, stored responses, mail bodies) are
-- out of the server role's reach: minime_app has no privilege on them and goes through the
-- functions below, each of which does one thing. A statement run as minime_app can no longer
-- list every token; it can at most use a token it already knows, or see its own user's rows.
SET ROLE minime_owner;

REVOKE ALL ON auth.email_tokens, auth.refresh_tokens, ops.idempotency_keys, ops.outbox FROM minime_app;

-- Mailed single-use links.
CREATE FUNCTION auth.issue_email_token(p_hash bytea, p_user uuid, p_purpose text, p_expires timestamptz, p_password_hash text)
  RETURNS void LANGUAGE sql SECURITY DEFINER SET search_path = pg_catalog, pg_temp
  AS $$
    INSERT INTO auth.email_tokens (token_hash, user_id, purpose, expires_at, password_hash)
    VALUES (p_hash, p_user, p_purpose, p_expires, p_password_hash)
  $$;

-- Uses a live token once; no row when it is unknown, used or expired.
CREATE FUNCTION auth.consume_email_token(p_hash bytea, p_purpose text)
  RETURNS TABLE (user_id uuid, password_hash text)
  LANGUAGE sql SECURITY DEFINER SET search_path = pg_catalog, pg_temp
  AS $$
    UPDATE auth.email_tokens t SET used_at = now()
    WHERE t.token_hash = p_hash AND t.purpose = p_purpose AND t.used_at IS NULL AND t.expires_at > now()
    RETURNING t.user_id, t.password_hash
  $$;

-- The account a live token belongs to, without using it.
CREATE FUNCTION auth.email_token_user(p_hash bytea, p_purpose text) RETURNS uuid
  LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
  AS $$
    SELECT t.user_id FROM auth.email_tokens t
    WHERE t.token_hash = p_hash AND t.purpose = p_purpose AND t.used_at IS NULL AND t.expires_at > now()
  $$;

-- The mailbox was proven: every other link mailed to the account stops working.
CREATE FUNCTION auth.end_email_tokens(p_user uuid) RETURNS void
  LANGUAGE sql SECURITY DEFINER SET search_path = pg_catalog, pg_temp
  AS $$ UPDATE auth.email_tokens SET used_at = now() WHERE user_id = p_user AND used_at IS NULL $$;

-- Refresh tokens: issued to a session, looked up by hash (the row stays locked until the
-- transaction ends), used once.
CREATE FUNCTION auth.issue_refresh_token(p_hash bytea, p_session uuid) RETURNS void
  LANGUAGE sql SECURITY DEFINER SET search_path = pg_catalog, pg_temp
  AS $$ INSERT INTO auth.refresh_tokens (token_hash, session_id) VALUES (p_hash, p_session) $$;

-- With its session, in one round trip; both rows stay locked until the transaction ends.
CREATE FUNCTION auth.find_refresh_token(p_hash bytea)
  RETURNS TABLE (session_id uuid, used boolean, user_id uuid, mode text, live boolean)
  LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp
  AS $$
BEGIN
  RETURN QUERY SELECT r.session_id, r.used_at IS NOT NULL, s.user_id, s.mode,
                      s.revoked_at IS NULL AND s.expires_at > now()
    FROM auth.refresh_tokens r JOIN auth.sessions s ON s.id = r.session_id
    WHERE r.token_hash = p_hash FOR UPDATE;
END
$$;

CREATE FUNCTION auth.use_refresh_token(p_hash bytea) RETURNS boolean
  LANGUAGE sql SECURITY DEFINER SET search_path = pg_catalog, pg_temp
  AS $$
    WITH used AS (UPDATE auth.refresh_tokens SET used_at = now() WHERE token_hash = p_hash AND used_at IS NULL RETURNING 1)
    SELECT EXISTS (SELECT 1 FROM used)
  $$;

-- Idempotency keys belong to the transaction's user (app.user_id), never to a parameter.
CREATE FUNCTION ops.idempotency_replay(p_key text, p_ttl interval)
  RETURNS TABLE (path text, request_hash bytea, status smallint, body bytea)
  LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
  AS $$
    SELECT k.path, k.request_hash, k.status, k.body FROM ops.idempotency_keys k
    WHERE k.user_id = app.current_user_id() AND k.key = p_key AND k.created_at > now() - p_ttl
  $$;

-- Stores an answer; false when the key is taken by a live entry (another request is using it).
CREATE FUNCTION ops.idempotency_remember(p_key text, p_path text, p_hash bytea, p_status smallint, p_body bytea, p_ttl interval)
  RETURNS boolean LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp
  AS $$
DECLARE
  me uuid := app.current_user_id();
  n integer;
BEGIN
  IF me IS NULL THEN
    RAISE EXCEPTION 'no current user' USING ERRCODE = 'insufficient_privilege';
  END IF;
  DELETE FROM ops.idempotency_keys WHERE user_id = me AND key = p_key AND created_at <= now() - p_ttl;
  INSERT INTO ops.idempotency_keys (user_id, key, method, path, request_hash, status, body)
  VALUES (me, p_key, 'POST', p_path, p_hash, p_status, p_body)
  ON CONFLICT DO NOTHING;
  GET DIAGNOSTICS n = ROW_COUNT;
  RETURN n > 0;
END
$$;

-- Outbound mail: anyone may queue, the sender claims and settles, users see their own mail
-- without bodies.
CREATE FUNCTION ops.outbox_enqueue(p_id uuid, p_user uuid, p_kind text, p_to text, p_subject text, p_body text)
  RETURNS void LANGUAGE sql SECURITY DEFINER SET search_path = pg_catalog, pg_temp
  AS $$
    INSERT INTO ops.outbox (id, user_id, kind, to_address, subject, body_text)
    VALUES (p_id, p_user, p_kind, p_to, p_subject, p_body)
  $$;

CREATE FUNCTION ops.outbox_claim(p_limit integer, p_lease interval)
  RETURNS TABLE (id uuid, to_address text, subject text, body_text text, attempts integer)
  LANGUAGE sql SECURITY DEFINER SET search_path = pg_catalog, pg_temp
  AS $$
    UPDATE ops.outbox o SET locked_until = now() + p_lease, attempts = o.attempts + 1
    WHERE o.id IN (SELECT q.id FROM ops.outbox q
                   WHERE q.sent_at IS NULL AND q.failed_at IS NULL AND q.next_attempt_at <= now()
                     AND (q.locked_until IS NULL OR q.locked_until < now())
                   ORDER BY q.next_attempt_at LIMIT p_limit FOR UPDATE SKIP LOCKED)
    RETURNING o.id, o.to_address, o.subject, o.body_text, o.attempts
  $$;

-- outcome: 'sent' (the body goes: it may hold a live link), 'retry' at p_next, or 'failed'.
CREATE FUNCTION ops.outbox_settle(p_id uuid, p_outcome text, p_error text, p_next timestamptz)
  RETURNS void LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp
  AS $$
BEGIN
  CASE p_outcome
    WHEN 'sent' THEN
      UPDATE ops.outbox SET sent_at = now(), body_text = NULL, locked_until = NULL WHERE id = p_id;
    WHEN 'retry' THEN
      UPDATE ops.outbox SET next_attempt_at = p_next, last_error = p_error, locked_until = NULL WHERE id = p_id;
    WHEN 'failed' THEN
      UPDATE ops.outbox SET failed_at = now(), body_text = NULL, last_error = p_error WHERE id = p_id;
    ELSE
      RAISE EXCEPTION 'unknown outcome %', p_outcome USING ERRCODE = 'invalid_parameter_value';
  END CASE;
END
$$;

CREATE FUNCTION ops.my_mail() RETURNS SETOF jsonb
  LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
  AS $$
    SELECT to_jsonb(o) - 'body_text' FROM ops.outbox o
    WHERE o.user_id = app.current_user_id() ORDER BY o.created_at, o.id
  $$;

REVOKE ALL ON FUNCTION
  auth.issue_email_token(bytea, uuid, text, timestamptz, text), auth.consume_email_token(bytea, text),
  auth.email_token_user(bytea, text), auth.end_email_tokens(uuid),
  auth.issue_refresh_token(bytea, uuid), auth.find_refresh_token(bytea), auth.use_refresh_token(bytea),
  ops.idempotency_replay(text, interval), ops.idempotency_remember(text, text, bytea, smallint, bytea, interval),
  ops.outbox_enqueue(uuid, uuid, text, text, text, text), ops.outbox_claim(integer, interval),
  ops.outbox_settle(uuid, text, text, timestamptz), ops.my_mail()
FROM PUBLIC;
GRANT EXECUTE ON FUNCTION
  auth.issue_email_token(bytea, uuid, text, timestamptz, text), auth.consume_email_token(bytea, text),
  auth.email_token_user(bytea, text), auth.end_email_tokens(uuid),
  auth.issue_refresh_token(bytea, uuid), auth.find_refresh_token(bytea), auth.use_refresh_token(bytea),
  ops.idempotency_replay(text, interval), ops.idempotency_remember(text, text, bytea, smallint, bytea, interval),
  ops.outbox_enqueue(uuid, uuid, text, text, text, text), ops.outbox_claim(integer, interval),
  ops.outbox_settle(uuid, text, text, timestamptz), ops.my_mail()
TO minime_app;

RESET ROLE;
