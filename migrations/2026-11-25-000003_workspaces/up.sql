SET ROLE minime_owner;

-- The caller's id for this transaction; '' (not NULL) after a transaction-local set_config ended.
CREATE FUNCTION app.current_user_id() RETURNS uuid
  LANGUAGE sql STABLE
  AS $$ SELECT nullif(current_setting('app.user_id', true), '')::uuid $$;

CREATE TABLE app.workspaces (
  id         uuid PRIMARY KEY,
  name       text NOT NULL CHECK (char_length(name) BETWEEN 1 AND 200),
  kind       text NOT NULL CHECK (kind IN ('personal', 'shared')),
  owner_id   uuid NOT NULL REFERENCES auth.users (id) ON DELETE CASCADE,
  created_by uuid NOT NULL REFERENCES auth.users (id) ON DELETE CASCADE,
  version    integer NOT NULL DEFAULT 1,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX workspaces_owner_idx ON app.workspaces (owner_id);
CREATE INDEX workspaces_created_by_idx ON app.workspaces (created_by);
CREATE UNIQUE INDEX workspaces_one_personal ON app.workspaces (owner_id) WHERE kind = 'personal';

CREATE TABLE app.workspace_members (
  workspace_id uuid NOT NULL REFERENCES app.workspaces (id) ON DELETE CASCADE,
  user_id      uuid NOT NULL REFERENCES auth.users (id) ON DELETE CASCADE,
  role         text NOT NULL CHECK (role IN ('owner', 'member')),
  created_by   uuid NOT NULL REFERENCES auth.users (id) ON DELETE CASCADE,
  created_at   timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (workspace_id, user_id)
);
CREATE INDEX workspace_members_user_idx ON app.workspace_members (user_id, workspace_id);
CREATE INDEX workspace_members_created_by_idx ON app.workspace_members (created_by);

-- Membership helpers run as minime_owner (BYPASSRLS), so policies that call them do not
-- recurse into the policies of workspace_members. Policies wrap them in a scalar
-- sub-select: an InitPlan evaluated once per statement, not once per row.
CREATE FUNCTION app.member_workspace_ids() RETURNS uuid[]
  LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog
  AS $$
    SELECT coalesce(array_agg(m.workspace_id), '{}')
    FROM app.workspace_members m
    WHERE m.user_id = app.current_user_id()
  $$;

CREATE FUNCTION app.owned_workspace_ids() RETURNS uuid[]
  LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog
  AS $$
    SELECT coalesce(array_agg(w.id), '{}')
    FROM app.workspaces w
    WHERE w.owner_id = app.current_user_id()
  $$;

REVOKE ALL ON FUNCTION app.current_user_id(), app.member_workspace_ids(), app.owned_workspace_ids() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION app.current_user_id(), app.member_workspace_ids(), app.owned_workspace_ids() TO minime_app;

ALTER TABLE app.workspaces ENABLE ROW LEVEL SECURITY;
ALTER TABLE app.workspaces FORCE ROW LEVEL SECURITY;
CREATE POLICY workspaces_select ON app.workspaces FOR SELECT
  USING (id = ANY ((SELECT app.member_workspace_ids())::uuid[]));
CREATE POLICY workspaces_insert ON app.workspaces FOR INSERT
  WITH CHECK (owner_id = (SELECT app.current_user_id()) AND created_by = (SELECT app.current_user_id()));
CREATE POLICY workspaces_update ON app.workspaces FOR UPDATE
  USING (owner_id = (SELECT app.current_user_id()))
  WITH CHECK (owner_id = ANY (SELECT m.user_id FROM app.workspace_members m WHERE m.workspace_id = id));
CREATE POLICY workspaces_delete ON app.workspaces FOR DELETE
  USING (owner_id = (SELECT app.current_user_id()));

ALTER TABLE app.workspace_members ENABLE ROW LEVEL SECURITY;
ALTER TABLE app.workspace_members FORCE ROW LEVEL SECURITY;
CREATE POLICY workspace_members_select ON app.workspace_members FOR SELECT
  USING (workspace_id = ANY ((SELECT app.member_workspace_ids())::uuid[]));
CREATE POLICY workspace_members_insert ON app.workspace_members FOR INSERT
  WITH CHECK (workspace_id = ANY ((SELECT app.owned_workspace_ids())::uuid[]) AND created_by = (SELECT app.current_user_id()));
CREATE POLICY workspace_members_update ON app.workspace_members FOR UPDATE
  USING (workspace_id = ANY ((SELECT app.owned_workspace_ids())::uuid[]));
-- Owners remove members; anyone may leave.
CREATE POLICY workspace_members_delete ON app.workspace_members FOR DELETE
  USING (workspace_id = ANY ((SELECT app.owned_workspace_ids())::uuid[]) OR user_id = (SELECT app.current_user_id()));

GRANT SELECT, INSERT, UPDATE, DELETE ON app.workspaces, app.workspace_members TO minime_app;

RESET ROLE;
