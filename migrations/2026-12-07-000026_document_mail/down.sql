SET ROLE minime_owner;

DROP FUNCTION ops.document_email_settle(uuid, text, text, text), ops.outbox_attachment(uuid),
  ops.outbox_enqueue_document(uuid, uuid, text, text, text, text, uuid, uuid);
DROP TABLE app.document_emails;
ALTER TABLE ops.outbox DROP CONSTRAINT outbox_attachment_check, DROP COLUMN attachment_document,
  DROP COLUMN attachment_workspace;
ALTER TABLE app.business_profiles DROP COLUMN email_templates;

RESET ROLE;
