SET ROLE minime_owner;

-- A Gmail mailbox connected to an account (Max plan), read-only. The refresh token is sealed
-- with the key ring (place: auth.gmail_accounts, refresh_token, the user id); NULL once Google
-- has refused it (the user withdrew access there): the row then says why until the user
-- reconnects or disconnects.
CREATE TABLE auth.gmail_accounts (
  user_id       uuid PRIMARY KEY REFERENCES auth.users (id) ON DELETE CASCADE,
  address       text NOT NULL CHECK (char_length(address) BETWEEN 1 AND 320),
  refresh_token bytea,
  connected_at  timestamptz NOT NULL,
  last_sync_at  timestamptz,
  last_error    text CHECK (char_length(last_error) <= 500)
);

-- A consent started at Google and not come back yet: the state travels in the browser, only
-- its SHA-256 is kept; the PKCE verifier is sealed (place: auth.gmail_oauth_states, verifier,
-- the state hash in hex). Used once, within 10 minutes; the daily cleanup removes the expired.
CREATE TABLE auth.gmail_oauth_states (
  state_hash bytea PRIMARY KEY CHECK (octet_length(state_hash) = 32),
  user_id    uuid NOT NULL REFERENCES auth.users (id) ON DELETE CASCADE,
  verifier   bytea NOT NULL,
  created_at timestamptz NOT NULL,
  expires_at timestamptz NOT NULL,
  used_at    timestamptz
);
CREATE INDEX gmail_oauth_states_user_idx ON auth.gmail_oauth_states (user_id);
CREATE INDEX gmail_oauth_states_expires_idx ON auth.gmail_oauth_states (expires_at);

-- The latest INBOX messages as the last sync saw them: headers and Gmail's snippet, never a
-- body. They go with the connection.
CREATE TABLE auth.gmail_messages (
  user_id     uuid NOT NULL REFERENCES auth.gmail_accounts (user_id) ON DELETE CASCADE,
  gmail_id    text NOT NULL CHECK (char_length(gmail_id) BETWEEN 1 AND 64),
  thread_id   text NOT NULL CHECK (char_length(thread_id) <= 64),
  sender      text NOT NULL CHECK (char_length(sender) <= 500),
  subject     text NOT NULL CHECK (char_length(subject) <= 1000),
  snippet     text NOT NULL CHECK (char_length(snippet) <= 1000),
  received_at timestamptz NOT NULL,
  PRIMARY KEY (user_id, gmail_id)
);
CREATE INDEX gmail_messages_received_idx ON auth.gmail_messages (user_id, received_at DESC, gmail_id);

ALTER TABLE auth.gmail_accounts ENABLE ROW LEVEL SECURITY;
ALTER TABLE auth.gmail_accounts FORCE ROW LEVEL SECURITY;
CREATE POLICY gmail_accounts_own ON auth.gmail_accounts
  USING (user_id = (SELECT app.current_user_id()))
  WITH CHECK (user_id = (SELECT app.current_user_id()));
ALTER TABLE auth.gmail_oauth_states ENABLE ROW LEVEL SECURITY;
ALTER TABLE auth.gmail_oauth_states FORCE ROW LEVEL SECURITY;
CREATE POLICY gmail_oauth_states_own ON auth.gmail_oauth_states
  USING (user_id = (SELECT app.current_user_id()))
  WITH CHECK (user_id = (SELECT app.current_user_id()));
ALTER TABLE auth.gmail_messages ENABLE ROW LEVEL SECURITY;
ALTER TABLE auth.gmail_messages FORCE ROW LEVEL SECURITY;
CREATE POLICY gmail_messages_own ON auth.gmail_messages
  USING (user_id = (SELECT app.current_user_id()))
  WITH CHECK (user_id = (SELECT app.current_user_id()));

GRANT SELECT, INSERT, UPDATE, DELETE ON auth.gmail_accounts, auth.gmail_messages TO minime_app;
-- States are written by their user and read back only through auth.gmail_take_state.
GRANT INSERT ON auth.gmail_oauth_states TO minime_app;

-- The callback comes from the browser without our credential: the state names the user. Takes
-- a live state once; no row when it is unknown, used or expired at p_at.
CREATE FUNCTION auth.gmail_take_state(p_hash bytea, p_at timestamptz)
  RETURNS TABLE (user_id uuid, verifier bytea)
  LANGUAGE sql SECURITY DEFINER SET search_path = pg_catalog, pg_temp
  AS $$
    UPDATE auth.gmail_oauth_states s SET used_at = greatest(now(), p_at)
    WHERE s.state_hash = p_hash AND s.used_at IS NULL AND s.expires_at > greatest(now(), p_at)
    RETURNING s.user_id, s.verifier
  $$;

-- Every sealed Gmail secret, for re-sealing under a new key: kind 'refresh_token' keyed by the
-- user id, kind 'verifier' keyed by the state hash in hex.
CREATE FUNCTION auth.gmail_sealed() RETURNS TABLE (kind text, key text, sealed bytea)
  LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
  AS $$
    SELECT 'refresh_token', a.user_id::text, a.refresh_token FROM auth.gmail_accounts a
    WHERE a.refresh_token IS NOT NULL
    UNION ALL
    SELECT 'verifier', encode(s.state_hash, 'hex'), s.verifier FROM auth.gmail_oauth_states s
    WHERE s.used_at IS NULL
  $$;

-- Replaces one ciphertext with the same secret sealed anew, only if it is still p_old.
CREATE FUNCTION auth.gmail_reseal(p_kind text, p_key text, p_old bytea, p_new bytea) RETURNS boolean
  LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp
  AS $$
DECLARE
  n integer;
BEGIN
  CASE p_kind
    WHEN 'refresh_token' THEN
      UPDATE auth.gmail_accounts SET refresh_token = p_new
      WHERE user_id = p_key::uuid AND refresh_token = p_old;
    WHEN 'verifier' THEN
      UPDATE auth.gmail_oauth_states SET verifier = p_new
      WHERE state_hash = decode(p_key, 'hex') AND verifier = p_old;
    ELSE
      RAISE EXCEPTION 'unknown kind %', p_kind USING ERRCODE = 'invalid_parameter_value';
  END CASE;
  GET DIAGNOSTICS n = ROW_COUNT;
  RETURN n > 0;
END
$$;

REVOKE ALL ON FUNCTION auth.gmail_take_state(bytea, timestamptz), auth.gmail_sealed(),
  auth.gmail_reseal(text, text, bytea, bytea) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION auth.gmail_take_state(bytea, timestamptz), auth.gmail_sealed(),
  auth.gmail_reseal(text, text, bytea, bytea) TO minime_app;

-- The cleanup as before, and Gmail consents not completed within their 10 minutes.
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

RESET ROLE;
