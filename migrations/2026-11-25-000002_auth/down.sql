DROP TABLE auth.signin_failures;
DROP TABLE auth.personal_access_tokens;
DROP TABLE auth.email_tokens;
DROP TABLE auth.refresh_tokens;
DROP TABLE auth.sessions;
DROP TABLE auth.users;
