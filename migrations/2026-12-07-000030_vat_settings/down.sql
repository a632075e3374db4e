SET ROLE minime_owner;
DROP TABLE app.vat_settings;
RESET ROLE;
