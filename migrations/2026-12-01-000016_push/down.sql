SET ROLE minime_owner;

DROP FUNCTION ops.server_secret_reseal(text, bytea, bytea);
DROP FUNCTION ops.server_secrets_sealed();
DROP FUNCTION ops.server_secret_keep(text, bytea);
DROP FUNCTION ops.server_secret(text);
DROP TABLE ops.server_secrets;
DROP TABLE auth.push_subscriptions;

RESET ROLE;
