SET ROLE minime_owner;

DROP FUNCTION ops.quote_answer(bytea, timestamptz, boolean, text, bytea, uuid),
  ops.quote_by_link(bytea, timestamptz);
DROP TABLE app.quotes;
ALTER TABLE app.business_profiles DROP COLUMN quote_prefix, DROP COLUMN last_quote_number;

RESET ROLE;
