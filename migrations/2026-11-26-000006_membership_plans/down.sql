SET ROLE minime_owner;

CREATE OR REPLACE FUNCTION app.member_workspace_ids() RETURNS uuid[]
  LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog
  AS $$
    SELECT coalesce(array_agg(m.workspace_id), '{}')
    FROM app.workspace_members m
    WHERE m.user_id = app.current_user_id()
  $$;

CREATE OR REPLACE FUNCTION app.owned_workspace_ids() RETURNS uuid[]
  LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog
  AS $$
    SELECT coalesce(array_agg(w.id), '{}')
    FROM app.workspaces w
    WHERE w.owner_id = app.current_user_id()
  $$;

RESET ROLE;
