SET ROLE minime_owner;

DROP FUNCTION ops.stripe_secrets_reseal(uuid, bytea[], bytea[]), ops.stripe_secrets_sealed(),
  ops.stripe_record_event(uuid, uuid, text, text, uuid, bigint, date, text, uuid, uuid),
  ops.stripe_webhook_secrets(uuid, uuid, timestamptz);
DROP TABLE app.stripe_events;
DROP TABLE app.stripe_accounts;

RESET ROLE;
