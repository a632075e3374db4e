DROP TABLE app.workspace_members;
DROP TABLE app.workspaces;
DROP FUNCTION app.owned_workspace_ids();
DROP FUNCTION app.member_workspace_ids();
DROP FUNCTION app.current_user_id();
