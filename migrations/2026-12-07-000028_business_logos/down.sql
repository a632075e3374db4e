SET ROLE minime_owner;

DROP TABLE app.business_logos;

RESET ROLE;
