SET ROLE minime_owner;

-- AI proposals waiting for the user's answer. Nothing an AI feature proposes is written anywhere
-- else until it is confirmed; `sent` records exactly what went to which provider, for the
-- user's own export (never for logs).
CREATE TABLE app.ai_previews (
  id           uuid PRIMARY KEY,
  workspace_id uuid NOT NULL REFERENCES app.workspaces (id) ON DELETE CASCADE,
  created_by   uuid NOT NULL REFERENCES auth.users (id) ON DELETE CASCADE,
  feature      text NOT NULL CHECK (feature IN ('smart-add', 'break-into-steps', 'project-tasks', 'explain-plan', 'transcription')),
  provider     text NOT NULL,
  sent         jsonb NOT NULL,
  proposal     jsonb NOT NULL,
  status       text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'confirmed', 'discarded')),
  expires_at   timestamptz NOT NULL,
  answered_at  timestamptz,
  result       jsonb,
  version      integer NOT NULL DEFAULT 1,
  created_at   timestamptz NOT NULL DEFAULT now(),
  updated_at   timestamptz NOT NULL DEFAULT now()
);
SELECT app.add_workspace_table('ai_previews');
CREATE POLICY ai_previews_author ON app.ai_previews AS RESTRICTIVE
  USING (created_by = (SELECT app.current_user_id()))
  WITH CHECK (created_by = (SELECT app.current_user_id()));

RESET ROLE;
