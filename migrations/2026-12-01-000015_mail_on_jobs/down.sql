SET ROLE minime_owner;
DROP FUNCTION ops.outbox_take(uuid);
GRANT EXECUTE ON FUNCTION ops.outbox_claim(integer, interval) TO minime_app;
RESET ROLE;
