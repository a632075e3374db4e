SET ROLE minime_owner;

DROP FUNCTION ops.calendar_url_reseal(uuid, bytea, bytea);
DROP FUNCTION ops.calendar_urls_sealed();
DROP FUNCTION ops.calendar_users();
DROP TABLE auth.calendar_events;
DROP TABLE auth.calendar_connections;

RESET ROLE;
