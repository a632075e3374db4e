SET ROLE minime_owner;

-- A verification link carries the password of the sign-up that asked for it: whoever proves
-- the mailbox by following a link also sets the password typed in that sign-up, so someone who
-- registered the address first cannot keep a password of their own.
ALTER TABLE auth.email_tokens ADD COLUMN password_hash text;

-- Addresses are lower-cased by the server (Unicode-aware, after NFKC); the database checks the
-- ASCII part only, so that its locale can never disagree with the server and refuse a sign-up.
ALTER TABLE auth.users DROP CONSTRAINT users_email_normalized;
ALTER TABLE auth.users ADD CONSTRAINT users_email_normalized
  CHECK (email = btrim(email) AND email = lower(email COLLATE "C"));

-- Failed sign-ins are counted twice: per address and client network (what locks), and per
-- address alone (a ceiling over all clients). Both rows name the address they belong to, so that
-- a successful reset or a deleted account clears them all.
ALTER TABLE auth.signin_failures ADD COLUMN address_hash bytea;
UPDATE auth.signin_failures SET address_hash = email_hash;
ALTER TABLE auth.signin_failures ALTER COLUMN address_hash SET NOT NULL;
CREATE INDEX signin_failures_address_idx ON auth.signin_failures (address_hash);

RESET ROLE;
