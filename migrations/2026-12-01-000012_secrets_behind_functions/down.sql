SET ROLE minime_owner;
DROP FUNCTION auth.issue_email_token(bytea, uuid, text, timestamptz, text), auth.consume_email_token(bytea, text),
  auth.email_token_user(bytea, text), auth.end_email_tokens(uuid),
  auth.issue_refresh_token(bytea, uuid), auth.find_refresh_token(bytea), auth.use_refresh_token(bytea),
  ops.idempotency_replay(text, interval), ops.idempotency_remember(text, text, bytea, smallint, bytea, interval),
  ops.outbox_enqueue(uuid, uuid, text, text, text, text), ops.outbox_claim(integer, interval),
  ops.outbox_settle(uuid, text, text, timestamptz), ops.my_mail();
GRANT SELECT, INSERT, UPDATE, DELETE ON auth.email_tokens, auth.refresh_tokens, ops.idempotency_keys, ops.outbox TO minime_app;
RESET ROLE;
