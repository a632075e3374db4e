-- Mail is delivered by jobs of the one queue: each job takes its message by id. The batch claim
-- of the former sender is no longer the server's to call.
SET ROLE minime_owner;

CREATE FUNCTION ops.outbox_take(p_id uuid)
  RETURNS TABLE (to_address text, subject text, body_text text, attempts integer)
  LANGUAGE sql SECURITY DEFINER SET search_path = pg_catalog, pg_temp
  AS $$
    UPDATE ops.outbox o SET attempts = o.attempts + 1
    WHERE o.id = p_id AND o.sent_at IS NULL AND o.failed_at IS NULL
    RETURNING o.to_address, o.subject, o.body_text, o.attempts
  $$;

REVOKE ALL ON FUNCTION ops.outbox_take(uuid) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION ops.outbox_take(uuid) TO minime_app;
REVOKE EXECUTE ON FUNCTION ops.outbox_claim(integer, interval) FROM minime_app;
RESET ROLE;
