SET ROLE minime_owner;
ALTER TABLE auth.signin_failures DROP COLUMN address_hash;
ALTER TABLE auth.users DROP CONSTRAINT users_email_normalized;
ALTER TABLE auth.users ADD CONSTRAINT users_email_normalized CHECK (email = lower(btrim(email)));
ALTER TABLE auth.email_tokens DROP COLUMN password_hash;
RESET ROLE;
