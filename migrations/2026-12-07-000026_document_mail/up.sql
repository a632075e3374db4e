SET ROLE minime_owner;

-- Subjects and bodies of the mails that carry a business's documents, with placeholders.
ALTER TABLE app.business_profiles
  ADD COLUMN email_templates jsonb NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(email_templates) = 'object');

-- A mail may carry one kept document as its attachment, read at sending time.
ALTER TABLE ops.outbox
  ADD COLUMN attachment_workspace uuid,
  ADD COLUMN attachment_document uuid,
  ADD CONSTRAINT outbox_attachment_check CHECK ((attachment_workspace IS NULL) = (attachment_document IS NULL));

-- The email log of documents: one row per mail, its id the outbox message's, settled by the
-- sender as the message is.
CREATE TABLE app.document_emails (
  id            uuid NOT NULL,
  workspace_id  uuid NOT NULL REFERENCES app.workspaces (id) ON DELETE CASCADE,
  created_by    uuid NOT NULL REFERENCES auth.users (id) ON DELETE CASCADE,
  document_id   uuid NOT NULL,
  to_address    text NOT NULL CHECK (char_length(to_address) <= 320),
  subject       text NOT NULL CHECK (char_length(subject) <= 300),
  status        text NOT NULL DEFAULT 'queued' CHECK (status IN ('queued', 'sent', 'failed')),
  -- The message id the provider knows the mail by.
  provider_id   text CHECK (char_length(provider_id) <= 300),
  error         text CHECK (char_length(error) <= 2000),
  sent_at       timestamptz,
  version       integer NOT NULL DEFAULT 1,
  created_at    timestamptz NOT NULL DEFAULT now(),
  updated_at    timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (workspace_id, id),
  FOREIGN KEY (workspace_id, document_id) REFERENCES app.business_documents (workspace_id, id) ON DELETE CASCADE
);
CREATE INDEX document_emails_document_idx ON app.document_emails (workspace_id, document_id);
SELECT app.add_workspace_table('document_emails');

CREATE FUNCTION ops.outbox_enqueue_document(p_id uuid, p_user uuid, p_kind text, p_to text, p_subject text,
                                            p_body text, p_workspace uuid, p_document uuid)
  RETURNS void LANGUAGE sql SECURITY DEFINER SET search_path = pg_catalog, pg_temp
  AS $$
    INSERT INTO ops.outbox (id, user_id, kind, to_address, subject, body_text, attachment_workspace, attachment_document)
    VALUES (p_id, p_user, p_kind, p_to, p_subject, p_body, p_workspace, p_document)
  $$;

-- The attachment of a message still to send.
CREATE FUNCTION ops.outbox_attachment(p_id uuid)
  RETURNS TABLE (file_name text, content_type text, content bytea)
  LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
  AS $$
    SELECT d.file_name, d.content_type, d.content
    FROM ops.outbox o JOIN app.business_documents d
      ON d.workspace_id = o.attachment_workspace AND d.id = o.attachment_document
    WHERE o.id = p_id AND o.sent_at IS NULL AND o.failed_at IS NULL
  $$;

-- What became of a message, in the email log of its document (no row: not a document's mail).
CREATE FUNCTION ops.document_email_settle(p_id uuid, p_outcome text, p_provider_id text, p_error text)
  RETURNS void LANGUAGE sql SECURITY DEFINER SET search_path = pg_catalog, pg_temp
  AS $$
    UPDATE app.document_emails SET
      status = CASE p_outcome WHEN 'sent' THEN 'sent' WHEN 'failed' THEN 'failed' ELSE status END,
      provider_id = coalesce(left(p_provider_id, 300), provider_id),
      error = left(p_error, 2000),
      sent_at = CASE WHEN p_outcome = 'sent' THEN now() ELSE sent_at END,
      version = version + 1, updated_at = now()
    WHERE id = p_id
  $$;

REVOKE ALL ON FUNCTION ops.outbox_enqueue_document(uuid, uuid, text, text, text, text, uuid, uuid),
  ops.outbox_attachment(uuid), ops.document_email_settle(uuid, text, text, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION ops.outbox_enqueue_document(uuid, uuid, text, text, text, text, uuid, uuid),
  ops.outbox_attachment(uuid), ops.document_email_settle(uuid, text, text, text) TO minime_app;

RESET ROLE;
