SET ROLE minime_owner;

-- Conversations with the business assistant: questions about the business's own figures,
-- each answer with the figures and rows it was computed from, and what (if anything) was sent
-- to an AI provider. Kept until deleted; exported with the account.
CREATE TABLE app.assistant_conversations (
  id            uuid NOT NULL,
  workspace_id  uuid NOT NULL REFERENCES app.workspaces (id) ON DELETE CASCADE,
  created_by    uuid NOT NULL REFERENCES auth.users (id) ON DELETE CASCADE,
  title         text NOT NULL CHECK (char_length(title) BETWEEN 1 AND 200),
  version       integer NOT NULL DEFAULT 1,
  created_at    timestamptz NOT NULL DEFAULT now(),
  updated_at    timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (workspace_id, id)
);
SELECT app.add_workspace_table('assistant_conversations');

CREATE TABLE app.assistant_messages (
  id               uuid NOT NULL,
  workspace_id     uuid NOT NULL REFERENCES app.workspaces (id) ON DELETE CASCADE,
  created_by       uuid NOT NULL REFERENCES auth.users (id) ON DELETE CASCADE,
  conversation_id  uuid NOT NULL,
  role             text NOT NULL CHECK (role IN ('user', 'assistant')),
  text             text NOT NULL CHECK (char_length(text) BETWEEN 1 AND 10000),
  -- The assistant's figures and the rows behind them, and the record of what was sent.
  figures          jsonb NOT NULL DEFAULT '[]' CHECK (jsonb_typeof(figures) = 'array'),
  rows_used        jsonb NOT NULL DEFAULT '[]' CHECK (jsonb_typeof(rows_used) = 'array'),
  sent             jsonb,
  version          integer NOT NULL DEFAULT 1,
  created_at       timestamptz NOT NULL DEFAULT now(),
  updated_at       timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (workspace_id, id),
  FOREIGN KEY (workspace_id, conversation_id) REFERENCES app.assistant_conversations (workspace_id, id) ON DELETE CASCADE
);
CREATE INDEX assistant_messages_conversation_idx ON app.assistant_messages (workspace_id, conversation_id, created_at);
SELECT app.add_workspace_table('assistant_messages');

RESET ROLE;

SET ROLE minime_owner;
-- The business module's AI features keep their previews like every other.
ALTER TABLE app.ai_previews DROP CONSTRAINT ai_previews_feature_check;
ALTER TABLE app.ai_previews ADD CONSTRAINT ai_previews_feature_check CHECK (feature IN (
  'smart-add', 'break-into-steps', 'project-tasks', 'explain-plan', 'transcription',
  'job-pricing', 'document-processing'));
RESET ROLE;
