-- Who opted in to the morning recap: every process plants their next recap at start, which
-- needs the list across users (the settings themselves stay behind row-level security).
SET ROLE minime_owner;

CREATE FUNCTION ops.morning_recap_users()
  RETURNS TABLE (user_id uuid) LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
  AS $$ SELECT s.user_id FROM app.rule_settings s WHERE s.morning_recap $$;
CREATE INDEX rule_settings_morning_recap_idx ON app.rule_settings (user_id) WHERE morning_recap;

REVOKE ALL ON FUNCTION ops.morning_recap_users() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION ops.morning_recap_users() TO minime_app;
RESET ROLE;
