SET ROLE minime_owner;
DROP TABLE app.assistant_messages;
DROP TABLE app.assistant_conversations;
RESET ROLE;
