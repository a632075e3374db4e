SET ROLE minime_owner;

-- One browser (or device) that asked for web push notifications: what the browser's
-- PushSubscription gave us. It belongs to the account, not to a workspace.
CREATE TABLE auth.push_subscriptions (
  id           uuid PRIMARY KEY,
  user_id      uuid NOT NULL REFERENCES auth.users (id) ON DELETE CASCADE,
  -- The push service's URL for this browser: a capability, so it is never shown back whole.
  endpoint     text NOT NULL CHECK (char_length(endpoint) BETWEEN 1 AND 2048),
  -- The browser's P-256 public key, uncompressed (0x04 | x | y), and its 16-byte auth secret
  -- (RFC 8291): what the payload is encrypted to.
  p256dh       bytea NOT NULL CHECK (octet_length(p256dh) = 65 AND get_byte(p256dh, 0) = 4),
  auth         bytea NOT NULL CHECK (octet_length(auth) = 16),
  device       text NOT NULL CHECK (char_length(device) BETWEEN 1 AND 100),
  created_at   timestamptz NOT NULL DEFAULT now(),
  last_used_at timestamptz,
  last_error   text CHECK (char_length(last_error) <= 500),
  CONSTRAINT push_subscriptions_endpoint_key UNIQUE (user_id, endpoint)
);

-- A user reaches only their own subscriptions, whatever a statement forgets to say; the jobs
-- that deliver notifications run as the recipient.
ALTER TABLE auth.push_subscriptions ENABLE ROW LEVEL SECURITY;
ALTER TABLE auth.push_subscriptions FORCE ROW LEVEL SECURITY;
CREATE POLICY push_subscriptions_own ON auth.push_subscriptions
  USING (user_id = (SELECT app.current_user_id()))
  WITH CHECK (user_id = (SELECT app.current_user_id()));
GRANT SELECT, INSERT, UPDATE, DELETE ON auth.push_subscriptions TO minime_app;

-- Secrets the server makes for itself (the VAPID key when none is configured), sealed with the
-- key ring (place: ops.server_secrets, sealed, name). The server's role reaches them only
-- through the functions below.
CREATE TABLE ops.server_secrets (
  name       text PRIMARY KEY CHECK (name ~ '^[a-z0-9_.-]{1,64}$'),
  sealed     bytea NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now()
);

CREATE FUNCTION ops.server_secret(p_name text) RETURNS bytea
  LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
  AS $$ SELECT s.sealed FROM ops.server_secrets s WHERE s.name = p_name $$;

-- Keeps p_sealed unless the secret exists already, and returns the one kept: two processes
-- starting at once both get the first one's.
CREATE FUNCTION ops.server_secret_keep(p_name text, p_sealed bytea) RETURNS bytea
  LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp
  AS $$
BEGIN
  INSERT INTO ops.server_secrets (name, sealed) VALUES (p_name, p_sealed) ON CONFLICT (name) DO NOTHING;
  RETURN (SELECT s.sealed FROM ops.server_secrets s WHERE s.name = p_name);
END
$$;

-- Every sealed secret, for re-sealing under a new key.
CREATE FUNCTION ops.server_secrets_sealed() RETURNS TABLE (name text, sealed bytea)
  LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
  AS $$ SELECT s.name, s.sealed FROM ops.server_secrets s ORDER BY s.name $$;

-- Replaces a secret's ciphertext with the same secret sealed anew, only if it is still p_old.
CREATE FUNCTION ops.server_secret_reseal(p_name text, p_old bytea, p_new bytea) RETURNS boolean
  LANGUAGE sql SECURITY DEFINER SET search_path = pg_catalog, pg_temp
  AS $$
    WITH done AS (UPDATE ops.server_secrets SET sealed = p_new, updated_at = now()
                  WHERE name = p_name AND sealed = p_old RETURNING 1)
    SELECT EXISTS (SELECT 1 FROM done)
  $$;

REVOKE ALL ON ops.server_secrets FROM minime_app;
REVOKE ALL ON FUNCTION ops.server_secret(text), ops.server_secret_keep(text, bytea),
  ops.server_secrets_sealed(), ops.server_secret_reseal(text, bytea, bytea) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION ops.server_secret(text), ops.server_secret_keep(text, bytea),
  ops.server_secrets_sealed(), ops.server_secret_reseal(text, bytea, bytea) TO minime_app;

RESET ROLE;
