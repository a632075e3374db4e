SET ROLE minime_owner;

DROP FUNCTION ops.bank_details_reseal(uuid, bytea, bytea), ops.bank_details_sealed();
DROP TABLE app.business_jobs;
DROP TABLE app.clients;
DROP TABLE app.business_profiles;

RESET ROLE;
