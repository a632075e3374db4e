SET ROLE minime_owner;
DROP TABLE app.ai_previews;
RESET ROLE;
