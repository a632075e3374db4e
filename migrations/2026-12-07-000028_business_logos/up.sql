SET ROLE minime_owner;

-- A business's logo, printed on its documents: PNG or JPEG, recognised by content.
CREATE TABLE app.business_logos (
  id            uuid NOT NULL,
  workspace_id  uuid NOT NULL REFERENCES app.workspaces (id) ON DELETE CASCADE,
  created_by    uuid NOT NULL REFERENCES auth.users (id) ON DELETE CASCADE,
  content_type  text NOT NULL CHECK (content_type IN ('image/png', 'image/jpeg')),
  sha256        bytea NOT NULL CHECK (octet_length(sha256) = 32),
  size_bytes    integer NOT NULL CHECK (size_bytes BETWEEN 1 AND 524288),
  content       bytea NOT NULL,
  version       integer NOT NULL DEFAULT 1,
  created_at    timestamptz NOT NULL DEFAULT now(),
  updated_at    timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (workspace_id, id),
  UNIQUE (workspace_id)
);
SELECT app.add_workspace_table('business_logos');

RESET ROLE;
