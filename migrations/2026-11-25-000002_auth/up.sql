SET ROLE minime_owner;

CREATE TABLE auth.users (
  id                uuid PRIMARY KEY,
  email             text NOT NULL,
  password_hash     text NOT NULL,
  email_verified_at timestamptz,
  display_name      text,
  time_zone         text NOT NULL DEFAULT 'UTC',
  locale            text NOT NULL DEFAULT 'en',
  week_start        smallint NOT NULL DEFAULT 1 CHECK (week_start BETWEEN 1 AND 7),
  plan              text NOT NULL DEFAULT 'free' CHECK (plan IN ('free', 'pro', 'max')),
  version           integer NOT NULL DEFAULT 1,
  created_at        timestamptz NOT NULL DEFAULT now(),
  updated_at        timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT users_email_normalized CHECK (email = lower(btrim(email)))
);
CREATE UNIQUE INDEX users_email_key ON auth.users (email);

-- A session is one sign-in on one device; its refresh tokens form one rotation family.
CREATE TABLE auth.sessions (
  id             uuid PRIMARY KEY,
  user_id        uuid NOT NULL REFERENCES auth.users (id) ON DELETE CASCADE,
  mode           text NOT NULL CHECK (mode IN ('token', 'cookie')),
  user_agent     text,
  ip             text,
  created_at     timestamptz NOT NULL DEFAULT now(),
  last_used_at   timestamptz NOT NULL DEFAULT now(),
  expires_at     timestamptz NOT NULL,
  revoked_at     timestamptz,
  revoked_reason text
);
CREATE INDEX sessions_user_idx ON auth.sessions (user_id, created_at DESC, id DESC);

CREATE TABLE auth.refresh_tokens (
  token_hash bytea PRIMARY KEY,
  session_id uuid NOT NULL REFERENCES auth.sessions (id) ON DELETE CASCADE,
  created_at timestamptz NOT NULL DEFAULT now(),
  used_at    timestamptz
);
CREATE INDEX refresh_tokens_session_idx ON auth.refresh_tokens (session_id);

-- Single-use tokens mailed to the user (email verification, password reset).
CREATE TABLE auth.email_tokens (
  token_hash bytea PRIMARY KEY,
  user_id    uuid NOT NULL REFERENCES auth.users (id) ON DELETE CASCADE,
  purpose    text NOT NULL CHECK (purpose IN ('verify_email', 'password_reset')),
  created_at timestamptz NOT NULL DEFAULT now(),
  expires_at timestamptz NOT NULL,
  used_at    timestamptz
);
CREATE INDEX email_tokens_user_idx ON auth.email_tokens (user_id);

CREATE TABLE auth.personal_access_tokens (
  id           uuid PRIMARY KEY,
  user_id      uuid NOT NULL REFERENCES auth.users (id) ON DELETE CASCADE,
  name         text NOT NULL,
  token_hash   bytea NOT NULL UNIQUE,
  scope        text NOT NULL CHECK (scope IN ('read', 'write')),
  created_at   timestamptz NOT NULL DEFAULT now(),
  expires_at   timestamptz,
  last_used_at timestamptz,
  revoked_at   timestamptz
);
CREATE INDEX personal_access_tokens_user_idx ON auth.personal_access_tokens (user_id, created_at DESC, id DESC);

-- Failed sign-ins are counted per email hash, whether or not the account exists,
-- so that a lockout never reveals which addresses are registered.
CREATE TABLE auth.signin_failures (
  email_hash   bytea PRIMARY KEY,
  failures     integer NOT NULL,
  locked_until timestamptz,
  updated_at   timestamptz NOT NULL DEFAULT now()
);

GRANT SELECT, INSERT, UPDATE, DELETE ON
  auth.users, auth.sessions, auth.refresh_tokens, auth.email_tokens,
  auth.personal_access_tokens, auth.signin_failures
TO minime_app;

RESET ROLE;
