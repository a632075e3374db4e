SET ROLE minime_owner;

-- Account deletion as it was.
CREATE OR REPLACE FUNCTION app.delete_account(decisions jsonb) RETURNS jsonb
  LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog
  AS $$
DECLARE
  me uuid := app.current_user_id();
  ws record;
  act text;
  heir uuid;
  pending jsonb := '[]';
  heirs jsonb := '{}';
  transferred jsonb := '[]';
  doomed uuid[];
  removed jsonb := '{}';
  t record;
  cond text;
  n bigint;
BEGIN
  IF me IS NULL THEN
    RAISE EXCEPTION 'no current user' USING ERRCODE = 'insufficient_privilege';
  END IF;
  FOR ws IN
    SELECT w.id, w.name,
           (SELECT count(*) FROM app.workspace_members m WHERE m.workspace_id = w.id AND m.user_id <> me) AS others
    FROM app.workspaces w WHERE w.owner_id = me AND w.kind = 'shared' ORDER BY w.created_at, w.id
  LOOP
    CONTINUE WHEN ws.others = 0;
    act := decisions ->> ws.id::text;
    IF act = 'delete' THEN
      CONTINUE;
    ELSIF act = 'transfer' THEN
      SELECT m.user_id INTO heir FROM app.workspace_members m JOIN auth.users u ON u.id = m.user_id
      WHERE m.workspace_id = ws.id AND m.user_id <> me AND u.plan IN ('pro', 'max') AND u.locked_at IS NULL
      ORDER BY m.created_at, m.user_id LIMIT 1;
      IF heir IS NULL THEN
        pending := pending || jsonb_build_object('workspace_id', ws.id, 'name', ws.name, 'other_members', ws.others,
          'message', 'no other member''s plan allows owning a shared workspace: choose delete');
      ELSE
        heirs := heirs || jsonb_build_object(ws.id::text, heir);
      END IF;
    ELSE
      pending := pending || jsonb_build_object('workspace_id', ws.id, 'name', ws.name, 'other_members', ws.others,
        'message', 'has other members: choose transfer or delete');
    END IF;
  END LOOP;
  IF jsonb_array_length(pending) > 0 THEN
    RETURN jsonb_build_object('pending', pending);
  END IF;

  FOR ws IN SELECT key AS id, value #>> '{}' AS heir FROM jsonb_each(heirs) LOOP
    UPDATE app.workspace_members SET role = 'owner' WHERE workspace_id = ws.id::uuid AND user_id = ws.heir::uuid;
    UPDATE app.workspaces SET owner_id = ws.heir::uuid, created_by = ws.heir::uuid, version = version + 1, updated_at = now()
    WHERE id = ws.id::uuid;
    transferred := transferred || jsonb_build_object('workspace_id', ws.id::uuid);
  END LOOP;
  -- Workspaces that stay: who created them, or added their other members, is not kept.
  UPDATE app.workspaces SET created_by = owner_id WHERE created_by = me AND owner_id <> me;
  UPDATE app.workspace_members m SET created_by = w.owner_id FROM app.workspaces w
  WHERE m.workspace_id = w.id AND m.created_by = me AND m.user_id <> me AND w.owner_id <> me;

  doomed := ARRAY(SELECT w.id FROM app.workspaces w WHERE w.owner_id = me);
  FOR t IN
    SELECT s.nspname AS schema, c.relname AS tbl,
           array_agg(DISTINCT a.attname::text) FILTER (WHERE k.confrelid = 'auth.users'::regclass) AS user_cols,
           array_agg(DISTINCT a.attname::text) FILTER (WHERE k.confrelid = 'app.workspaces'::regclass) AS ws_cols
    FROM pg_constraint k
    JOIN pg_class c ON c.oid = k.conrelid
    JOIN pg_namespace s ON s.oid = c.relnamespace
    JOIN pg_attribute a ON a.attrelid = k.conrelid AND a.attnum = k.conkey[1]
    WHERE k.contype = 'f' AND k.confrelid IN ('auth.users'::regclass, 'app.workspaces'::regclass)
    GROUP BY 1, 2
    UNION ALL SELECT 'auth', 'users', ARRAY['id'], NULL
    UNION ALL SELECT 'app', 'workspaces', ARRAY['owner_id'], NULL
    ORDER BY 1, 2
  LOOP
    SELECT string_agg(x, ' OR ') INTO cond FROM (
      SELECT format('%I = $1', col) AS x FROM unnest(t.user_cols) col
      UNION ALL SELECT format('%I = ANY ($2)', col) FROM unnest(t.ws_cols) col) parts;
    EXECUTE format('SELECT count(*) FROM %I.%I WHERE %s', t.schema, t.tbl, cond) INTO n USING me, doomed;
    IF n > 0 THEN
      removed := removed || jsonb_build_object(t.schema || '.' || t.tbl,
        coalesce((removed ->> (t.schema || '.' || t.tbl))::bigint, 0) + n);
    END IF;
  END LOOP;

  DELETE FROM app.workspaces WHERE owner_id = me;
  DELETE FROM ops.rate_limits WHERE key LIKE '%' || me::text || '%';
  DELETE FROM auth.users WHERE id = me;
  RETURN jsonb_build_object('removed', removed, 'workspaces_deleted', to_jsonb(doomed), 'workspaces_transferred', transferred);
END
$$;

-- The admin functions with the key as a parameter.
DROP FUNCTION ops.admin_act(text, text, text, text);
DROP FUNCTION ops.admin_users(text, integer);
DROP FUNCTION ops.admin_log(text, text);
DROP FUNCTION ops.admin_record(text, text, jsonb, text);
DROP FUNCTION ops.admin_id_key();
DROP FUNCTION ops.set_admin_key(bytea);
DROP TABLE ops.admin_key;

CREATE FUNCTION ops.admin_log(key bytea, action text, target text, detail jsonb, request_id text)
  RETURNS void LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog
  AS $$
BEGIN
  INSERT INTO ops.admin_audit (actor, action, target, detail, request_id)
  VALUES (ops.admin_ref(key, ops.admin_check()), action, target, coalesce(detail, '{}'), request_id);
END
$$;

CREATE OR REPLACE FUNCTION ops.admin_stats() RETURNS jsonb
  LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog
  AS $$
DECLARE
  entities jsonb := '{}';
  t record;
  total bigint;
BEGIN
  PERFORM ops.admin_check();
  FOR t IN SELECT c.relname FROM pg_class c JOIN pg_namespace s ON s.oid = c.relnamespace
           WHERE s.nspname = 'app' AND c.relkind = 'r' ORDER BY 1 LOOP
    EXECUTE format('SELECT count(*) FROM app.%I', t.relname) INTO total;
    entities := entities || jsonb_build_object(t.relname, total);
  END LOOP;
  RETURN jsonb_build_object(
    'users', (SELECT count(*) FROM auth.users),
    'locked_users', (SELECT count(*) FROM auth.users WHERE locked_at IS NOT NULL),
    'users_by_plan', (SELECT coalesce(jsonb_object_agg(plan, n), '{}') FROM (SELECT plan, count(*) AS n FROM auth.users GROUP BY plan) p),
    'signups_per_day', (SELECT coalesce(jsonb_agg(jsonb_build_object('date', d, 'count', n) ORDER BY d), '[]')
        FROM (SELECT (created_at AT TIME ZONE 'UTC')::date AS d, count(*) AS n FROM auth.users
              WHERE created_at >= now() - interval '30 days' GROUP BY 1) s),
    'active_users_per_day', (SELECT coalesce(jsonb_agg(jsonb_build_object('date', d, 'count', n) ORDER BY d), '[]')
        FROM (SELECT d, count(DISTINCT user_id) AS n FROM (
                SELECT user_id, (created_at AT TIME ZONE 'UTC')::date AS d FROM auth.sessions WHERE created_at >= now() - interval '30 days'
                UNION ALL
                SELECT user_id, (last_used_at AT TIME ZONE 'UTC')::date FROM auth.sessions WHERE last_used_at >= now() - interval '30 days') a
              GROUP BY d) s),
    'entities', entities,
    'outbox', jsonb_build_object(
        'pending', (SELECT count(*) FROM ops.outbox WHERE sent_at IS NULL AND failed_at IS NULL),
        'failed', (SELECT count(*) FROM ops.outbox WHERE failed_at IS NOT NULL),
        'oldest_pending_seconds', (SELECT coalesce(extract(epoch FROM now() - min(created_at))::bigint, 0)
                                   FROM ops.outbox WHERE sent_at IS NULL AND failed_at IS NULL))
  );
END
$$;

CREATE FUNCTION ops.admin_users(key bytea, after text, lim integer)
  RETURNS TABLE (ref text, plan text, locked boolean, admin boolean, created_month text)
  LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog
  AS $$
BEGIN
  PERFORM ops.admin_check();
  RETURN QUERY
    SELECT x.ref, x.plan, x.locked, x.admin, x.created_month FROM (
      SELECT ops.admin_ref(key, u.id) AS ref, u.plan, u.locked_at IS NOT NULL AS locked,
             EXISTS (SELECT 1 FROM auth.admins a WHERE a.user_id = u.id) AS admin,
             to_char(u.created_at AT TIME ZONE 'UTC', 'YYYY-MM') AS created_month
      FROM auth.users u) x
    WHERE after IS NULL OR x.ref > after
    ORDER BY x.ref
    LIMIT lim;
END
$$;

CREATE FUNCTION ops.admin_act(key bytea, target text, action text, arg text, request_id text)
  RETURNS boolean LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog
  AS $$
DECLARE
  who uuid;
  n integer := 0;
BEGIN
  PERFORM ops.admin_check();
  SELECT u.id INTO who FROM auth.users u WHERE ops.admin_ref(key, u.id) = target;
  IF who IS NULL THEN
    RETURN false;
  END IF;
  CASE action
    WHEN 'set_plan' THEN
      IF arg NOT IN ('free', 'pro', 'max') THEN
        RAISE EXCEPTION 'unknown plan %', arg USING ERRCODE = 'invalid_parameter_value';
      END IF;
      UPDATE auth.users SET plan = arg, version = version + 1, updated_at = now() WHERE id = who;
    WHEN 'lock' THEN
      UPDATE auth.users SET locked_at = coalesce(locked_at, now()), version = version + 1, updated_at = now() WHERE id = who;
      UPDATE auth.sessions SET revoked_at = now(), revoked_reason = 'locked' WHERE user_id = who AND revoked_at IS NULL;
      GET DIAGNOSTICS n = ROW_COUNT;
      UPDATE auth.personal_access_tokens SET revoked_at = now() WHERE user_id = who AND revoked_at IS NULL;
    WHEN 'unlock' THEN
      UPDATE auth.users SET locked_at = NULL, version = version + 1, updated_at = now() WHERE id = who;
    WHEN 'sign_out' THEN
      UPDATE auth.sessions SET revoked_at = now(), revoked_reason = 'signed_out_by_admin' WHERE user_id = who AND revoked_at IS NULL;
      GET DIAGNOSTICS n = ROW_COUNT;
    ELSE
      RAISE EXCEPTION 'unknown action %', action USING ERRCODE = 'invalid_parameter_value';
  END CASE;
  PERFORM ops.admin_log(key, action, target,
    CASE WHEN action = 'set_plan' THEN jsonb_build_object('plan', arg)
         WHEN n > 0 THEN jsonb_build_object('sessions_ended', n) ELSE '{}' END,
    request_id);
  RETURN true;
END
$$;

REVOKE ALL ON FUNCTION ops.admin_log(bytea, text, text, jsonb, text),
  ops.admin_users(bytea, text, integer), ops.admin_act(bytea, text, text, text, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION ops.admin_log(bytea, text, text, jsonb, text),
  ops.admin_users(bytea, text, integer), ops.admin_act(bytea, text, text, text, text) TO minime_admin;

CREATE OR REPLACE FUNCTION app.accept_invite(p_token_hash bytea, p_email text) RETURNS uuid
  LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog AS $$
DECLARE
  me uuid := app.current_user_id();
  inv app.workspace_invites;
BEGIN
  IF me IS NULL THEN RAISE EXCEPTION 'no user'; END IF;
  SELECT * INTO inv FROM app.workspace_invites
   WHERE token_hash = p_token_hash AND accepted_at IS NULL AND revoked_at IS NULL AND expires_at > now()
   FOR UPDATE;
  IF NOT FOUND OR (inv.email IS NOT NULL AND inv.email <> p_email) THEN RETURN NULL; END IF;
  UPDATE app.workspace_invites SET accepted_by = me, accepted_at = now() WHERE id = inv.id;
  INSERT INTO app.workspace_members (workspace_id, user_id, role, created_by)
  VALUES (inv.workspace_id, me, 'member', me) ON CONFLICT DO NOTHING;
  RETURN inv.workspace_id;
END
$$;

ALTER FUNCTION app.member_workspace_ids() SET search_path = pg_catalog;
ALTER FUNCTION app.owned_workspace_ids() SET search_path = pg_catalog;
ALTER FUNCTION ops.admin_check() SET search_path = pg_catalog;

-- Membership and workspace policies as they were.
DROP POLICY workspaces_delete ON app.workspaces;
CREATE POLICY workspaces_delete ON app.workspaces FOR DELETE
  USING (owner_id = (SELECT app.current_user_id()));
DROP POLICY workspaces_update ON app.workspaces;
CREATE POLICY workspaces_update ON app.workspaces FOR UPDATE
  USING (owner_id = (SELECT app.current_user_id()))
  WITH CHECK (owner_id = ANY (SELECT m.user_id FROM app.workspace_members m WHERE m.workspace_id = id));
DROP POLICY workspace_members_delete ON app.workspace_members;
CREATE POLICY workspace_members_delete ON app.workspace_members FOR DELETE
  USING (workspace_id = ANY ((SELECT app.owned_workspace_ids())::uuid[]) OR user_id = (SELECT app.current_user_id()));
DROP POLICY workspace_members_update ON app.workspace_members;
CREATE POLICY workspace_members_update ON app.workspace_members FOR UPDATE
  USING (workspace_id = ANY ((SELECT app.owned_workspace_ids())::uuid[]));
DROP POLICY workspace_members_insert ON app.workspace_members;
CREATE POLICY workspace_members_insert ON app.workspace_members FOR INSERT
  WITH CHECK (workspace_id = ANY ((SELECT app.owned_workspace_ids())::uuid[]) AND created_by = (SELECT app.current_user_id()));

REVOKE UPDATE ON app.workspaces FROM minime_app;
GRANT UPDATE ON app.workspaces TO minime_app;
REVOKE UPDATE ON app.workspace_members FROM minime_app;
GRANT UPDATE ON app.workspace_members TO minime_app;
ALTER TABLE app.workspace_members DROP CONSTRAINT workspace_members_one_owner;

DROP FUNCTION app.tally(jsonb, text, bigint);
DROP FUNCTION app.detach_links(regclass, uuid, uuid[]);
DROP FUNCTION app.version_bump(regclass, text);
DROP VIEW app.workspace_links;

DROP INDEX ops.outbox_to_address_idx;
DROP INDEX app.workspace_invites_email_idx;
ALTER TABLE app.workspace_invites DROP CONSTRAINT workspace_invites_accepted_by_fkey,
  ADD CONSTRAINT workspace_invites_accepted_by_fkey FOREIGN KEY (accepted_by) REFERENCES auth.users (id) ON DELETE CASCADE;

-- Single-column keys and links.
ALTER TABLE app.goals DROP CONSTRAINT goals_area_id_fkey;
ALTER TABLE app.milestones DROP CONSTRAINT milestones_goal_id_fkey;
ALTER TABLE app.projects DROP CONSTRAINT projects_area_id_fkey, DROP CONSTRAINT projects_goal_id_fkey;
ALTER TABLE app.tasks DROP CONSTRAINT tasks_parent_id_fkey, DROP CONSTRAINT tasks_project_id_fkey,
  DROP CONSTRAINT tasks_area_id_fkey, DROP CONSTRAINT tasks_goal_id_fkey;
ALTER TABLE app.routines DROP CONSTRAINT routines_area_id_fkey;
ALTER TABLE app.routine_completions DROP CONSTRAINT routine_completions_routine_id_fkey;
ALTER TABLE app.capture_items DROP CONSTRAINT capture_items_converted_task_id_fkey,
  DROP CONSTRAINT capture_items_converted_project_id_fkey;
ALTER TABLE app.decisions DROP CONSTRAINT decisions_chosen_option_id_fkey;
ALTER TABLE app.decision_options DROP CONSTRAINT decision_options_decision_id_fkey;
ALTER TABLE app.focus_sessions DROP CONSTRAINT focus_sessions_task_id_fkey;
ALTER TABLE app.day_plan_items DROP CONSTRAINT day_plan_items_plan_id_fkey,
  DROP CONSTRAINT day_plan_items_task_id_fkey, DROP CONSTRAINT day_plan_items_routine_id_fkey;

DROP INDEX app.workspace_invites_token_hash_idx;
ALTER TABLE app.workspace_invites DROP CONSTRAINT workspace_invites_token_hash_key,
  ADD CONSTRAINT workspace_invites_token_hash_key UNIQUE (token_hash);
ALTER TABLE app.routine_completions DROP CONSTRAINT routine_completions_routine_id_occurrence_date_key,
  ADD CONSTRAINT routine_completions_routine_id_occurrence_date_key UNIQUE (routine_id, occurrence_date);

DO $$
DECLARE
  tbl text;
BEGIN
  FOREACH tbl IN ARRAY ARRAY['life_areas', 'goals', 'milestones', 'projects', 'tasks', 'routines',
    'routine_completions', 'capture_items', 'reviews', 'decisions', 'decision_options',
    'automation_rules', 'focus_sessions', 'day_plans', 'day_plan_items', 'ai_previews',
    'workspace_invites']
  LOOP
    EXECUTE format('ALTER TABLE app.%I DROP CONSTRAINT %I, ADD CONSTRAINT %I PRIMARY KEY (id)',
                   tbl, tbl || '_pkey', tbl || '_pkey');
  END LOOP;
END
$$;

ALTER TABLE app.goals ADD CONSTRAINT goals_area_id_fkey FOREIGN KEY (area_id) REFERENCES app.life_areas (id) ON DELETE SET NULL;
ALTER TABLE app.milestones ADD CONSTRAINT milestones_goal_id_fkey FOREIGN KEY (goal_id) REFERENCES app.goals (id) ON DELETE CASCADE;
ALTER TABLE app.projects
  ADD CONSTRAINT projects_area_id_fkey FOREIGN KEY (area_id) REFERENCES app.life_areas (id) ON DELETE SET NULL,
  ADD CONSTRAINT projects_goal_id_fkey FOREIGN KEY (goal_id) REFERENCES app.goals (id) ON DELETE SET NULL;
ALTER TABLE app.tasks
  ADD CONSTRAINT tasks_parent_id_fkey FOREIGN KEY (parent_id) REFERENCES app.tasks (id) ON DELETE CASCADE,
  ADD CONSTRAINT tasks_project_id_fkey FOREIGN KEY (project_id) REFERENCES app.projects (id) ON DELETE SET NULL,
  ADD CONSTRAINT tasks_area_id_fkey FOREIGN KEY (area_id) REFERENCES app.life_areas (id) ON DELETE SET NULL,
  ADD CONSTRAINT tasks_goal_id_fkey FOREIGN KEY (goal_id) REFERENCES app.goals (id) ON DELETE SET NULL;
ALTER TABLE app.routines ADD CONSTRAINT routines_area_id_fkey FOREIGN KEY (area_id) REFERENCES app.life_areas (id) ON DELETE SET NULL;
ALTER TABLE app.routine_completions
  ADD CONSTRAINT routine_completions_routine_id_fkey FOREIGN KEY (routine_id) REFERENCES app.routines (id) ON DELETE CASCADE;
ALTER TABLE app.capture_items
  ADD CONSTRAINT capture_items_converted_task_id_fkey FOREIGN KEY (converted_task_id) REFERENCES app.tasks (id) ON DELETE SET NULL,
  ADD CONSTRAINT capture_items_converted_project_id_fkey FOREIGN KEY (converted_project_id) REFERENCES app.projects (id) ON DELETE SET NULL;
ALTER TABLE app.decision_options
  ADD CONSTRAINT decision_options_decision_id_fkey FOREIGN KEY (decision_id) REFERENCES app.decisions (id) ON DELETE CASCADE;
ALTER TABLE app.decisions
  ADD CONSTRAINT decisions_chosen_option_id_fkey FOREIGN KEY (chosen_option_id) REFERENCES app.decision_options (id) ON DELETE SET NULL;
ALTER TABLE app.focus_sessions ADD CONSTRAINT focus_sessions_task_id_fkey FOREIGN KEY (task_id) REFERENCES app.tasks (id) ON DELETE SET NULL;
ALTER TABLE app.day_plan_items
  ADD CONSTRAINT day_plan_items_plan_id_fkey FOREIGN KEY (plan_id) REFERENCES app.day_plans (id) ON DELETE CASCADE,
  ADD CONSTRAINT day_plan_items_task_id_fkey FOREIGN KEY (task_id) REFERENCES app.tasks (id) ON DELETE CASCADE,
  ADD CONSTRAINT day_plan_items_routine_id_fkey FOREIGN KEY (routine_id) REFERENCES app.routines (id) ON DELETE CASCADE;

DROP INDEX app.goals_area_idx, app.milestones_goal_idx, app.projects_area_idx, app.projects_goal_idx,
  app.tasks_parent_idx, app.tasks_project_idx, app.tasks_area_idx, app.tasks_goal_idx,
  app.routines_area_idx, app.capture_items_task_idx, app.capture_items_project_idx,
  app.decisions_chosen_option_idx, app.decision_options_decision_idx, app.focus_sessions_task_idx,
  app.day_plan_items_plan_idx, app.day_plan_items_task_idx, app.day_plan_items_routine_idx;
CREATE INDEX goals_area_idx ON app.goals (area_id);
CREATE INDEX milestones_goal_idx ON app.milestones (goal_id);
CREATE INDEX projects_area_idx ON app.projects (area_id);
CREATE INDEX projects_goal_idx ON app.projects (goal_id);
CREATE INDEX tasks_parent_idx ON app.tasks (parent_id);
CREATE INDEX tasks_project_idx ON app.tasks (project_id);
CREATE INDEX tasks_area_idx ON app.tasks (area_id);
CREATE INDEX tasks_goal_idx ON app.tasks (goal_id);
CREATE INDEX routines_area_idx ON app.routines (area_id);
CREATE INDEX capture_items_task_idx ON app.capture_items (converted_task_id);
CREATE INDEX capture_items_project_idx ON app.capture_items (converted_project_id);
CREATE INDEX decisions_chosen_option_idx ON app.decisions (chosen_option_id);
CREATE INDEX decision_options_decision_idx ON app.decision_options (decision_id);
CREATE INDEX focus_sessions_task_idx ON app.focus_sessions (task_id);
CREATE INDEX day_plan_items_plan_idx ON app.day_plan_items (plan_id, position);
CREATE INDEX day_plan_items_task_idx ON app.day_plan_items (task_id);
CREATE INDEX day_plan_items_routine_idx ON app.day_plan_items (routine_id);

RESET ROLE;

DO $$
BEGIN
  EXECUTE format('GRANT TEMPORARY ON DATABASE %I TO PUBLIC', current_database());
END
$$;
