SET ROLE minime_owner;
DROP INDEX app.rule_settings_morning_recap_idx;
DROP FUNCTION ops.morning_recap_users();
RESET ROLE;
