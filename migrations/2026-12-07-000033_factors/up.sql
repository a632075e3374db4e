SET ROLE minime_owner;

-- How a session was authenticated, and when last strongly: sensitive actions of an account with
-- a second factor need a strong method within the last 10 minutes.
ALTER TABLE auth.sessions
  ADD COLUMN auth_method text NOT NULL DEFAULT 'password' CHECK (auth_method IN (
    'password', 'passkey', 'password_totp', 'password_passkey', 'password_recovery_code')),
  ADD COLUMN authenticated_at timestamptz NOT NULL DEFAULT now();

-- One authenticator app per account. The secret is sealed with the key ring (place:
-- auth.totp_factors, secret, the user id). last_step is the highest time step accepted: a code
-- of that step or an earlier one never works again.
CREATE TABLE auth.totp_factors (
  user_id      uuid PRIMARY KEY REFERENCES auth.users (id) ON DELETE CASCADE,
  secret       bytea NOT NULL,
  created_at   timestamptz NOT NULL,
  confirmed_at timestamptz,
  last_step    bigint
);

-- Ten single-use codes for when the second factor is lost; only their SHA-256 is kept.
CREATE TABLE auth.recovery_codes (
  user_id    uuid NOT NULL REFERENCES auth.users (id) ON DELETE CASCADE,
  code_hash  bytea NOT NULL CHECK (octet_length(code_hash) = 32),
  created_at timestamptz NOT NULL,
  used_at    timestamptz,
  PRIMARY KEY (user_id, code_hash)
);

-- WebAuthn credentials. `credential` is webauthn-rs's record of the passkey: its public key,
-- signature counter and backup flags, never a secret. A counter that went backwards marks the
-- passkey as possibly cloned, and it is refused from then on.
CREATE TABLE auth.passkeys (
  id                 uuid PRIMARY KEY,
  user_id            uuid NOT NULL REFERENCES auth.users (id) ON DELETE CASCADE,
  credential_id      bytea NOT NULL UNIQUE,
  name               text NOT NULL CHECK (char_length(name) BETWEEN 1 AND 100),
  credential         jsonb NOT NULL,
  sign_count         bigint NOT NULL DEFAULT 0,
  backup_eligible    boolean NOT NULL,
  backup_state       boolean NOT NULL,
  created_at         timestamptz NOT NULL,
  last_used_at       timestamptz,
  possibly_cloned_at timestamptz
);
CREATE INDEX passkeys_user_idx ON auth.passkeys (user_id, created_at DESC, id DESC);

ALTER TABLE auth.totp_factors ENABLE ROW LEVEL SECURITY;
ALTER TABLE auth.totp_factors FORCE ROW LEVEL SECURITY;
CREATE POLICY totp_factors_own ON auth.totp_factors
  USING (user_id = (SELECT app.current_user_id()))
  WITH CHECK (user_id = (SELECT app.current_user_id()));
ALTER TABLE auth.recovery_codes ENABLE ROW LEVEL SECURITY;
ALTER TABLE auth.recovery_codes FORCE ROW LEVEL SECURITY;
CREATE POLICY recovery_codes_own ON auth.recovery_codes
  USING (user_id = (SELECT app.current_user_id()))
  WITH CHECK (user_id = (SELECT app.current_user_id()));
ALTER TABLE auth.passkeys ENABLE ROW LEVEL SECURITY;
ALTER TABLE auth.passkeys FORCE ROW LEVEL SECURITY;
CREATE POLICY passkeys_own ON auth.passkeys
  USING (user_id = (SELECT app.current_user_id()))
  WITH CHECK (user_id = (SELECT app.current_user_id()));
GRANT SELECT, INSERT, UPDATE, DELETE ON auth.totp_factors, auth.recovery_codes, auth.passkeys
  TO minime_app;

-- Ceremonies between two requests: a password sign-in waiting for its second factor, and the
-- WebAuthn challenges of registering, signing in and re-authenticating. The token travels to
-- the client, only its SHA-256 is kept; each is used once, within 5 minutes, and a step with 5
-- wrong answers is gone. The server role reaches them only through the functions below.
CREATE TABLE auth.pending_steps (
  token_hash bytea PRIMARY KEY CHECK (octet_length(token_hash) = 32),
  kind       text NOT NULL CHECK (kind IN ('mfa', 'passkey_registration', 'passkey_signin',
                                           'passkey_reauthentication')),
  user_id    uuid REFERENCES auth.users (id) ON DELETE CASCADE,
  session_id uuid REFERENCES auth.sessions (id) ON DELETE CASCADE,
  state      jsonb,
  mode       text NOT NULL DEFAULT 'token' CHECK (mode IN ('token', 'cookie')),
  failures   integer NOT NULL DEFAULT 0,
  created_at timestamptz NOT NULL DEFAULT now(),
  expires_at timestamptz NOT NULL
);
CREATE INDEX pending_steps_user_idx ON auth.pending_steps (user_id);
CREATE INDEX pending_steps_session_idx ON auth.pending_steps (session_id);
CREATE INDEX pending_steps_expires_idx ON auth.pending_steps (expires_at);

CREATE FUNCTION auth.step_keep(p_hash bytea, p_kind text, p_user uuid, p_session uuid,
                               p_state jsonb, p_mode text, p_expires timestamptz) RETURNS void
  LANGUAGE sql SECURITY DEFINER SET search_path = pg_catalog, pg_temp
  AS $$
    INSERT INTO auth.pending_steps (token_hash, kind, user_id, session_id, state, mode, expires_at)
    VALUES (p_hash, p_kind, p_user, p_session, p_state, p_mode, p_expires)
  $$;

-- The live step of this token and kind, left in place.
CREATE FUNCTION auth.step_peek(p_hash bytea, p_kind text, p_at timestamptz)
  RETURNS TABLE (user_id uuid, session_id uuid, state jsonb, mode text)
  LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
  AS $$
    SELECT s.user_id, s.session_id, s.state, s.mode FROM auth.pending_steps s
    WHERE s.token_hash = p_hash AND s.kind = p_kind AND s.expires_at > greatest(now(), p_at)
  $$;

-- Replaces the WebAuthn state of a live step (a second factor's challenge).
CREATE FUNCTION auth.step_challenge(p_hash bytea, p_kind text, p_state jsonb, p_at timestamptz)
  RETURNS boolean
  LANGUAGE sql SECURITY DEFINER SET search_path = pg_catalog, pg_temp
  AS $$
    WITH u AS (
      UPDATE auth.pending_steps s SET state = p_state
      WHERE s.token_hash = p_hash AND s.kind = p_kind AND s.expires_at > greatest(now(), p_at)
      RETURNING 1)
    SELECT count(*) > 0 FROM u
  $$;

-- Uses the step up: true for the one caller that took it while it was live.
CREATE FUNCTION auth.step_take(p_hash bytea, p_kind text, p_at timestamptz) RETURNS boolean
  LANGUAGE sql SECURITY DEFINER SET search_path = pg_catalog, pg_temp
  AS $$
    WITH d AS (
      DELETE FROM auth.pending_steps s
      WHERE s.token_hash = p_hash AND s.kind = p_kind AND s.expires_at > greatest(now(), p_at)
      RETURNING 1)
    SELECT count(*) > 0 FROM d
  $$;

-- A wrong answer; the fifth ends the step.
CREATE FUNCTION auth.step_fail(p_hash bytea) RETURNS void
  LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp
  AS $$
BEGIN
  UPDATE auth.pending_steps SET failures = failures + 1 WHERE token_hash = p_hash;
  DELETE FROM auth.pending_steps WHERE token_hash = p_hash AND failures >= 5;
END
$$;

-- Every sealed TOTP secret, for re-sealing under a new key, keyed by the user id.
CREATE FUNCTION auth.totp_sealed() RETURNS TABLE (key text, sealed bytea)
  LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
  AS $$ SELECT t.user_id::text, t.secret FROM auth.totp_factors t $$;

CREATE FUNCTION auth.totp_reseal(p_key text, p_old bytea, p_new bytea) RETURNS boolean
  LANGUAGE sql SECURITY DEFINER SET search_path = pg_catalog, pg_temp
  AS $$
    WITH u AS (
      UPDATE auth.totp_factors SET secret = p_new WHERE user_id = p_key::uuid AND secret = p_old
      RETURNING 1)
    SELECT count(*) > 0 FROM u
  $$;

REVOKE ALL ON FUNCTION
  auth.step_keep(bytea, text, uuid, uuid, jsonb, text, timestamptz),
  auth.step_peek(bytea, text, timestamptz),
  auth.step_challenge(bytea, text, jsonb, timestamptz),
  auth.step_take(bytea, text, timestamptz),
  auth.step_fail(bytea),
  auth.totp_sealed(),
  auth.totp_reseal(text, bytea, bytea)
FROM PUBLIC;
GRANT EXECUTE ON FUNCTION
  auth.step_keep(bytea, text, uuid, uuid, jsonb, text, timestamptz),
  auth.step_peek(bytea, text, timestamptz),
  auth.step_challenge(bytea, text, jsonb, timestamptz),
  auth.step_take(bytea, text, timestamptz),
  auth.step_fail(bytea),
  auth.totp_sealed(),
  auth.totp_reseal(text, bytea, bytea)
TO minime_app;

-- Ceremonies past their 5 minutes go with the daily cleanup.
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
  DELETE FROM auth.pending_steps WHERE expires_at < at;
  GET DIAGNOSTICS n = ROW_COUNT; tbl := 'auth.pending_steps'; removed := n; RETURN NEXT;
END
$$;

-- The admin's statistics count the factors too: how many, never whose.
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
    'factors', jsonb_build_object(
        'totp_users', (SELECT count(*) FROM auth.totp_factors WHERE confirmed_at IS NOT NULL),
        'passkeys', (SELECT count(*) FROM auth.passkeys),
        'passkey_users', (SELECT count(DISTINCT user_id) FROM auth.passkeys),
        'passkeys_possibly_cloned', (SELECT count(*) FROM auth.passkeys WHERE possibly_cloned_at IS NOT NULL)),
    'outbox', jsonb_build_object(
        'pending', (SELECT count(*) FROM ops.outbox WHERE sent_at IS NULL AND failed_at IS NULL),
        'failed', (SELECT count(*) FROM ops.outbox WHERE failed_at IS NOT NULL),
        'oldest_pending_seconds', (SELECT coalesce(extract(epoch FROM now() - min(created_at))::bigint, 0)
                                   FROM ops.outbox WHERE sent_at IS NULL AND failed_at IS NULL))
  );
END
$$;

RESET ROLE;
