-- Integrity of workspace data (DESIGN §3, §7): composite workspace keys, so the database itself
-- refuses a link across workspaces; account deletion that removes the user's rows and nothing
-- of anybody else's; membership writes limited to what the server does; SECURITY DEFINER
-- functions that no temporary object can shadow; and an admin id key that stays in the database.

-- Unless search_path names pg_temp, temporary tables are searched before every schema in it:
-- a temporary pg_namespace would answer the catalogue lookups of a SECURITY DEFINER function.
-- Nobody needs temporary objects here. (Database ACLs are not copied by CREATE DATABASE ...
-- TEMPLATE, so `minime migrate` applies this again after every run.)
DO $$
BEGIN
  EXECUTE format('REVOKE TEMPORARY ON DATABASE %I FROM PUBLIC', current_database());
END
$$;

SET ROLE minime_owner;

---------------------------------------------------------------------------------------------------
-- Composite keys. Every workspace table is keyed (workspace_id, id), and every link between
-- workspace rows is (workspace_id, x_id) -> (workspace_id, id): a row can only point into its own
-- workspace, and on Citus both rows live on the same shard. Links never SET NULL (that would null
-- workspace_id too, and Citus refuses it): owned children CASCADE; other links refuse the delete
-- until whoever deletes has detached them (app.detach_links, app.delete_account). They are
-- RESTRICT rather than NO ACTION, which behaves the same undeferred but first looks for another
-- row with the deleted key, once per deleted row: deleting an account of 100,000 rows took
-- about twice as long with NO ACTION.

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

DO $$
DECLARE
  tbl text;
BEGIN
  FOREACH tbl IN ARRAY ARRAY['life_areas', 'goals', 'milestones', 'projects', 'tasks', 'routines',
    'routine_completions', 'capture_items', 'reviews', 'decisions', 'decision_options',
    'automation_rules', 'focus_sessions', 'day_plans', 'day_plan_items', 'ai_previews',
    'workspace_invites']
  LOOP
    EXECUTE format('ALTER TABLE app.%I DROP CONSTRAINT %I, ADD CONSTRAINT %I PRIMARY KEY (workspace_id, id)',
                   tbl, tbl || '_pkey', tbl || '_pkey');
  END LOOP;
END
$$;

ALTER TABLE app.routine_completions DROP CONSTRAINT routine_completions_routine_id_occurrence_date_key,
  ADD CONSTRAINT routine_completions_routine_id_occurrence_date_key UNIQUE (workspace_id, routine_id, occurrence_date);
-- Invitations are found by their token alone (the invitee belongs to no workspace yet).
ALTER TABLE app.workspace_invites DROP CONSTRAINT workspace_invites_token_hash_key,
  ADD CONSTRAINT workspace_invites_token_hash_key UNIQUE (workspace_id, token_hash);
CREATE INDEX workspace_invites_token_hash_idx ON app.workspace_invites (token_hash);

ALTER TABLE app.goals
  ADD CONSTRAINT goals_area_id_fkey FOREIGN KEY (workspace_id, area_id) REFERENCES app.life_areas (workspace_id, id) ON DELETE RESTRICT;
ALTER TABLE app.milestones
  ADD CONSTRAINT milestones_goal_id_fkey FOREIGN KEY (workspace_id, goal_id) REFERENCES app.goals (workspace_id, id) ON DELETE CASCADE;
ALTER TABLE app.projects
  ADD CONSTRAINT projects_area_id_fkey FOREIGN KEY (workspace_id, area_id) REFERENCES app.life_areas (workspace_id, id) ON DELETE RESTRICT,
  ADD CONSTRAINT projects_goal_id_fkey FOREIGN KEY (workspace_id, goal_id) REFERENCES app.goals (workspace_id, id) ON DELETE RESTRICT;
ALTER TABLE app.tasks
  ADD CONSTRAINT tasks_parent_id_fkey FOREIGN KEY (workspace_id, parent_id) REFERENCES app.tasks (workspace_id, id) ON DELETE CASCADE,
  ADD CONSTRAINT tasks_project_id_fkey FOREIGN KEY (workspace_id, project_id) REFERENCES app.projects (workspace_id, id) ON DELETE RESTRICT,
  ADD CONSTRAINT tasks_area_id_fkey FOREIGN KEY (workspace_id, area_id) REFERENCES app.life_areas (workspace_id, id) ON DELETE RESTRICT,
  ADD CONSTRAINT tasks_goal_id_fkey FOREIGN KEY (workspace_id, goal_id) REFERENCES app.goals (workspace_id, id) ON DELETE RESTRICT;
ALTER TABLE app.routines
  ADD CONSTRAINT routines_area_id_fkey FOREIGN KEY (workspace_id, area_id) REFERENCES app.life_areas (workspace_id, id) ON DELETE RESTRICT;
ALTER TABLE app.routine_completions
  ADD CONSTRAINT routine_completions_routine_id_fkey FOREIGN KEY (workspace_id, routine_id) REFERENCES app.routines (workspace_id, id) ON DELETE CASCADE;
ALTER TABLE app.capture_items
  ADD CONSTRAINT capture_items_converted_task_id_fkey FOREIGN KEY (workspace_id, converted_task_id) REFERENCES app.tasks (workspace_id, id) ON DELETE RESTRICT,
  ADD CONSTRAINT capture_items_converted_project_id_fkey FOREIGN KEY (workspace_id, converted_project_id) REFERENCES app.projects (workspace_id, id) ON DELETE RESTRICT;
ALTER TABLE app.decision_options
  ADD CONSTRAINT decision_options_decision_id_fkey FOREIGN KEY (workspace_id, decision_id) REFERENCES app.decisions (workspace_id, id) ON DELETE CASCADE;
ALTER TABLE app.decisions
  ADD CONSTRAINT decisions_chosen_option_id_fkey FOREIGN KEY (workspace_id, chosen_option_id) REFERENCES app.decision_options (workspace_id, id) ON DELETE RESTRICT;
ALTER TABLE app.focus_sessions
  ADD CONSTRAINT focus_sessions_task_id_fkey FOREIGN KEY (workspace_id, task_id) REFERENCES app.tasks (workspace_id, id) ON DELETE RESTRICT;
ALTER TABLE app.day_plan_items
  ADD CONSTRAINT day_plan_items_plan_id_fkey FOREIGN KEY (workspace_id, plan_id) REFERENCES app.day_plans (workspace_id, id) ON DELETE CASCADE,
  ADD CONSTRAINT day_plan_items_task_id_fkey FOREIGN KEY (workspace_id, task_id) REFERENCES app.tasks (workspace_id, id) ON DELETE CASCADE,
  ADD CONSTRAINT day_plan_items_routine_id_fkey FOREIGN KEY (workspace_id, routine_id) REFERENCES app.routines (workspace_id, id) ON DELETE CASCADE;

-- Every link has the index its checks and cascades search by.
DROP INDEX app.goals_area_idx, app.milestones_goal_idx, app.projects_area_idx, app.projects_goal_idx,
  app.tasks_parent_idx, app.tasks_project_idx, app.tasks_area_idx, app.tasks_goal_idx,
  app.routines_area_idx, app.capture_items_task_idx, app.capture_items_project_idx,
  app.decisions_chosen_option_idx, app.decision_options_decision_idx, app.focus_sessions_task_idx,
  app.day_plan_items_plan_idx, app.day_plan_items_task_idx, app.day_plan_items_routine_idx;
CREATE INDEX goals_area_idx ON app.goals (workspace_id, area_id);
CREATE INDEX milestones_goal_idx ON app.milestones (workspace_id, goal_id);
CREATE INDEX projects_area_idx ON app.projects (workspace_id, area_id);
CREATE INDEX projects_goal_idx ON app.projects (workspace_id, goal_id);
CREATE INDEX tasks_parent_idx ON app.tasks (workspace_id, parent_id);
CREATE INDEX tasks_project_idx ON app.tasks (workspace_id, project_id);
CREATE INDEX tasks_area_idx ON app.tasks (workspace_id, area_id);
CREATE INDEX tasks_goal_idx ON app.tasks (workspace_id, goal_id);
CREATE INDEX routines_area_idx ON app.routines (workspace_id, area_id);
CREATE INDEX capture_items_task_idx ON app.capture_items (workspace_id, converted_task_id);
CREATE INDEX capture_items_project_idx ON app.capture_items (workspace_id, converted_project_id);
CREATE INDEX decisions_chosen_option_idx ON app.decisions (workspace_id, chosen_option_id);
CREATE INDEX decision_options_decision_idx ON app.decision_options (workspace_id, decision_id);
CREATE INDEX focus_sessions_task_idx ON app.focus_sessions (workspace_id, task_id);
CREATE INDEX day_plan_items_plan_idx ON app.day_plan_items (workspace_id, plan_id, position);
CREATE INDEX day_plan_items_task_idx ON app.day_plan_items (workspace_id, task_id);
CREATE INDEX day_plan_items_routine_idx ON app.day_plan_items (workspace_id, routine_id);

-- An accepted invitation outlives the account that accepted it (it is its inviter's record):
-- account deletion detaches it instead of a cascade removing it.
ALTER TABLE app.workspace_invites DROP CONSTRAINT workspace_invites_accepted_by_fkey,
  ADD CONSTRAINT workspace_invites_accepted_by_fkey FOREIGN KEY (accepted_by) REFERENCES auth.users (id);
-- Account deletion looks up what was addressed to the user.
CREATE INDEX workspace_invites_email_idx ON app.workspace_invites (email) WHERE accepted_at IS NULL;
CREATE INDEX outbox_to_address_idx ON ops.outbox (to_address);

-- The links between workspace rows, read from the catalogue: one row per composite foreign key
-- (workspace_id, col) -> parent (workspace_id, id).
CREATE VIEW app.workspace_links AS
  SELECT k.oid AS constraint_oid,
         k.conrelid::regclass AS child,
         a.attname::text AS col,
         k.confrelid::regclass AS parent,
         k.confdeltype AS on_delete,
         NOT a.attnotnull AS nullable
  FROM pg_catalog.pg_constraint k
  JOIN pg_catalog.pg_attribute w ON w.attrelid = k.conrelid AND w.attnum = k.conkey[1] AND w.attname = 'workspace_id'
  JOIN pg_catalog.pg_attribute a ON a.attrelid = k.conrelid AND a.attnum = k.conkey[2]
  JOIN pg_catalog.pg_attribute pw ON pw.attrelid = k.confrelid AND pw.attnum = k.confkey[1] AND pw.attname = 'workspace_id'
  WHERE k.contype = 'f' AND cardinality(k.conkey) = 2
    AND k.connamespace = 'app'::regnamespace;

-- `, version = <alias>.version + 1, updated_at = now()` for tables that carry a version, so that
-- a row changed on someone else's behalf gets a new ETag like any other change.
CREATE FUNCTION app.version_bump(tbl regclass, alias text) RETURNS text
  LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp
  AS $$
    SELECT CASE WHEN count(*) = 2 THEN format(', version = %1$I.version + 1, updated_at = now()', alias) ELSE '' END
    FROM pg_catalog.pg_attribute a
    WHERE a.attrelid = tbl AND a.attname IN ('version', 'updated_at') AND NOT a.attisdropped
  $$;

-- Before rows of `tbl` (and the owned children that cascade with them) are deleted, every
-- nullable link that would refuse the delete (RESTRICT or NO ACTION) is set to NULL. Runs as the caller: row-level security
-- applies, and a link the caller cannot see makes the delete fail instead of being changed.
-- Returns how many rows were detached.
CREATE FUNCTION app.detach_links(tbl regclass, ws uuid, ids uuid[]) RETURNS bigint
  LANGUAGE plpgsql SECURITY INVOKER SET search_path = pg_catalog, pg_temp
  AS $$
DECLARE
  todo jsonb := jsonb_build_array(jsonb_build_object('t', tbl::oid::text, 'ids', to_jsonb(coalesce(ids, '{}'))));
  seen jsonb := '{}';
  item jsonb;
  cur regclass;
  these uuid[];
  below uuid[];
  l record;
  n bigint;
  total bigint := 0;
BEGIN
  WHILE jsonb_array_length(todo) > 0 LOOP
    item := todo -> 0;
    todo := todo - 0;
    cur := (item ->> 't')::oid::regclass;
    -- Subtasks may (wrongly) form a cycle: each row is visited once.
    these := ARRAY(SELECT jsonb_array_elements_text(item -> 'ids')::uuid
                   EXCEPT SELECT jsonb_array_elements_text(coalesce(seen -> (item ->> 't'), '[]'))::uuid);
    CONTINUE WHEN cardinality(these) = 0;
    seen := seen || jsonb_build_object(item ->> 't', coalesce(seen -> (item ->> 't'), '[]') || to_jsonb(these));
    FOR l IN SELECT * FROM app.workspace_links k WHERE k.parent = cur ORDER BY k.child::text, k.col LOOP
      IF l.on_delete = 'c' THEN
        EXECUTE format('SELECT array_agg(x.id) FROM %s x WHERE x.workspace_id = $1 AND x.%I = ANY ($2)', l.child, l.col)
          INTO below USING ws, these;
        IF below IS NOT NULL THEN
          todo := todo || jsonb_build_object('t', l.child::oid::text, 'ids', to_jsonb(below));
        END IF;
      ELSIF l.on_delete IN ('r', 'a') AND l.nullable THEN
        EXECUTE format('UPDATE %1$s x SET %2$I = NULL%3$s WHERE x.workspace_id = $1 AND x.%2$I = ANY ($2)',
                       l.child, l.col, app.version_bump(l.child, 'x'))
          USING ws, these;
        GET DIAGNOSTICS n = ROW_COUNT;
        total := total + n;
      END IF;
    END LOOP;
  END LOOP;
  RETURN total;
END
$$;

-- Adds n to counts[tbl], leaving zeros out.
CREATE FUNCTION app.tally(counts jsonb, tbl text, n bigint) RETURNS jsonb
  LANGUAGE sql IMMUTABLE SET search_path = pg_catalog, pg_temp
  AS $$
    SELECT CASE WHEN n = 0 THEN counts
                ELSE counts || jsonb_build_object(tbl, coalesce((counts ->> tbl)::bigint, 0) + n) END
  $$;

REVOKE ALL ON FUNCTION app.version_bump(regclass, text), app.detach_links(regclass, uuid, uuid[]),
  app.tally(jsonb, text, bigint) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION app.version_bump(regclass, text), app.detach_links(regclass, uuid, uuid[]) TO minime_app;
GRANT SELECT ON app.workspace_links TO minime_app;

---------------------------------------------------------------------------------------------------
-- Who may write which membership. The server writes workspace_members in three ways: a user adds
-- themself as owner of a workspace they just created; an owner hands the workspace over (the
-- new owner's role becomes 'owner', their own 'member'); members leave or are removed by the
-- owner. Joining goes through app.accept_invite. Nothing else is allowed, in SQL either.

-- One owner row per workspace; deferred, so that a hand-over may swap roles in two statements.
ALTER TABLE app.workspace_members ADD CONSTRAINT workspace_members_one_owner
  EXCLUDE USING btree (workspace_id WITH =) WHERE (role = 'owner') DEFERRABLE INITIALLY DEFERRED;

REVOKE UPDATE ON app.workspace_members FROM minime_app;
GRANT UPDATE (role) ON app.workspace_members TO minime_app;
REVOKE UPDATE ON app.workspaces FROM minime_app;
GRANT UPDATE (name, owner_id, version, updated_at) ON app.workspaces TO minime_app;

DROP POLICY workspace_members_insert ON app.workspace_members;
CREATE POLICY workspace_members_insert ON app.workspace_members FOR INSERT
  WITH CHECK (user_id = (SELECT app.current_user_id())
              AND created_by = (SELECT app.current_user_id())
              AND role = 'owner'
              AND workspace_id = ANY ((SELECT app.owned_workspace_ids())::uuid[]));
DROP POLICY workspace_members_update ON app.workspace_members;
CREATE POLICY workspace_members_update ON app.workspace_members FOR UPDATE
  USING (workspace_id = ANY ((SELECT app.owned_workspace_ids())::uuid[]))
  WITH CHECK (workspace_id = ANY ((SELECT app.owned_workspace_ids())::uuid[])
              AND (role = 'owner') = (user_id <> (SELECT app.current_user_id())));
-- Owners remove members; members leave. The owner's row goes only with the workspace.
DROP POLICY workspace_members_delete ON app.workspace_members;
CREATE POLICY workspace_members_delete ON app.workspace_members FOR DELETE
  USING (role = 'member'
         AND (workspace_id = ANY ((SELECT app.owned_workspace_ids())::uuid[])
              OR user_id = (SELECT app.current_user_id())));

-- A workspace changes hands only to a member already made owner (see above), a personal one
-- never; it is deleted only as a shared one (the personal workspace goes with the account).
DROP POLICY workspaces_update ON app.workspaces;
CREATE POLICY workspaces_update ON app.workspaces FOR UPDATE
  USING (owner_id = (SELECT app.current_user_id()))
  WITH CHECK ((kind = 'shared' OR owner_id = (SELECT app.current_user_id()))
              AND EXISTS (SELECT 1 FROM app.workspace_members m
                          WHERE m.workspace_id = id AND m.user_id = owner_id AND m.role = 'owner'));
DROP POLICY workspaces_delete ON app.workspaces;
CREATE POLICY workspaces_delete ON app.workspaces FOR DELETE
  USING (owner_id = (SELECT app.current_user_id()) AND kind = 'shared');

---------------------------------------------------------------------------------------------------
-- SECURITY DEFINER functions: pg_temp last in search_path, so that nothing temporary is found
-- before the catalogue (it is searched first when not named).

ALTER FUNCTION app.member_workspace_ids() SET search_path = pg_catalog, pg_temp;
ALTER FUNCTION app.owned_workspace_ids() SET search_path = pg_catalog, pg_temp;
ALTER FUNCTION ops.admin_check() SET search_path = pg_catalog, pg_temp;

CREATE OR REPLACE FUNCTION app.accept_invite(p_token_hash bytea, p_email text) RETURNS uuid
  LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
  me uuid := app.current_user_id();
  inv app.workspace_invites;
BEGIN
  IF me IS NULL THEN RAISE EXCEPTION 'no user'; END IF;
  SELECT * INTO inv FROM app.workspace_invites
   WHERE token_hash = p_token_hash AND accepted_at IS NULL AND revoked_at IS NULL AND expires_at > now()
   FOR UPDATE;
  IF NOT FOUND OR (inv.email IS NOT NULL AND inv.email <> p_email) THEN RETURN NULL; END IF;
  UPDATE app.workspace_invites SET accepted_by = me, accepted_at = now()
   WHERE workspace_id = inv.workspace_id AND id = inv.id;
  INSERT INTO app.workspace_members (workspace_id, user_id, role, created_by)
  VALUES (inv.workspace_id, me, 'member', me) ON CONFLICT (workspace_id, user_id) DO NOTHING;
  RETURN inv.workspace_id;
END
$$;

---------------------------------------------------------------------------------------------------
-- The admin id key lives here, set by `minime migrate` from MINIME_ADMIN_ID_KEY; nobody but the
-- owner reads it. The admin functions hash with it themselves, so an administrator's session
-- can neither choose how ids (its own included) are hashed nor log what it did not do.

CREATE TABLE ops.admin_key (
  singleton boolean PRIMARY KEY DEFAULT true CHECK (singleton),
  key       bytea NOT NULL CHECK (octet_length(key) > 0),
  set_at    timestamptz NOT NULL DEFAULT now()
);

CREATE FUNCTION ops.set_admin_key(new_key bytea) RETURNS void
  LANGUAGE sql SET search_path = pg_catalog, pg_temp
  AS $$
    INSERT INTO ops.admin_key (singleton, key) VALUES (true, new_key)
    ON CONFLICT (singleton) DO UPDATE SET key = excluded.key, set_at = now()
    WHERE ops.admin_key.key IS DISTINCT FROM excluded.key
  $$;

CREATE FUNCTION ops.admin_id_key() RETURNS bytea
  LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp
  AS $$
DECLARE
  k bytea;
BEGIN
  SELECT a.key INTO k FROM ops.admin_key a;
  IF k IS NULL THEN
    RAISE EXCEPTION 'the admin id key is not set: run minime migrate' USING ERRCODE = 'object_not_in_prerequisite_state';
  END IF;
  RETURN k;
END
$$;

-- Appends one entry, the actor named by the keyed hash of the calling administrator.
CREATE FUNCTION ops.admin_record(action text, target text, detail jsonb, request_id text) RETURNS void
  LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp
  AS $$
BEGIN
  INSERT INTO ops.admin_audit (actor, action, target, detail, request_id)
  VALUES (ops.admin_ref(ops.admin_id_key(), ops.admin_check()), action, target, coalesce(detail, '{}'), request_id);
END
$$;

DROP FUNCTION ops.admin_act(bytea, text, text, text, text);
DROP FUNCTION ops.admin_users(bytea, text, integer);
DROP FUNCTION ops.admin_log(bytea, text, text, jsonb, text);

-- What an administrator looks at is logged by the server; what it changes, by admin_act itself.
CREATE FUNCTION ops.admin_log(action text, request_id text) RETURNS void
  LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp
  AS $$
BEGIN
  IF action IS NULL OR action NOT IN ('view_stats', 'list_users') THEN
    RAISE EXCEPTION 'not an action administrators log themselves: %', action USING ERRCODE = 'invalid_parameter_value';
  END IF;
  PERFORM ops.admin_record(action, NULL, '{}', request_id);
END
$$;

-- Statistics only: counts, never a row.
CREATE OR REPLACE FUNCTION ops.admin_stats() RETURNS jsonb
  LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
  AS $$
DECLARE
  entities jsonb := '{}';
  t record;
  total bigint;
BEGIN
  PERFORM ops.admin_check();
  FOR t IN SELECT c.relname FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace s ON s.oid = c.relnamespace
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

-- Users by keyed hash with non-personal status; keyset pages in hash order.
CREATE FUNCTION ops.admin_users(after text, lim integer)
  RETURNS TABLE (ref text, plan text, locked boolean, admin boolean, created_month text)
  LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
  AS $$
DECLARE
  k bytea;
BEGIN
  PERFORM ops.admin_check();
  k := ops.admin_id_key();
  RETURN QUERY
    SELECT x.ref, x.plan, x.locked, x.admin, x.created_month FROM (
      SELECT ops.admin_ref(k, u.id) AS ref, u.plan, u.locked_at IS NOT NULL AS locked,
             EXISTS (SELECT 1 FROM auth.admins a WHERE a.user_id = u.id) AS admin,
             to_char(u.created_at AT TIME ZONE 'UTC', 'YYYY-MM') AS created_month
      FROM auth.users u) x
    WHERE after IS NULL OR x.ref > after
    ORDER BY x.ref
    LIMIT lim;
END
$$;

-- One action on the user behind a hash, logged in the same transaction. False: no such user.
CREATE FUNCTION ops.admin_act(target text, action text, arg text, request_id text)
  RETURNS boolean LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp
  AS $$
DECLARE
  k bytea;
  who uuid;
  n integer := 0;
BEGIN
  PERFORM ops.admin_check();
  k := ops.admin_id_key();
  SELECT u.id INTO who FROM auth.users u WHERE ops.admin_ref(k, u.id) = target;
  IF who IS NULL THEN
    RETURN false;
  END IF;
  CASE action
    WHEN 'set_plan' THEN
      IF arg IS NULL OR arg NOT IN ('free', 'pro', 'max') THEN
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
  PERFORM ops.admin_record(action, target,
    CASE WHEN action = 'set_plan' THEN jsonb_build_object('plan', arg)
         WHEN n > 0 THEN jsonb_build_object('sessions_ended', n) ELSE '{}' END,
    request_id);
  RETURN true;
END
$$;

REVOKE ALL ON FUNCTION ops.set_admin_key(bytea), ops.admin_id_key(), ops.admin_record(text, text, jsonb, text),
  ops.admin_log(text, text), ops.admin_users(text, integer), ops.admin_act(text, text, text, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION ops.admin_log(text, text), ops.admin_users(text, integer),
  ops.admin_act(text, text, text, text) TO minime_admin;

---------------------------------------------------------------------------------------------------
-- Account deletion, acting on the current user only. Shared workspaces owned with other members
-- need a decision each (`transfer` to the longest-standing member whose plan allows it, or
-- `delete`); without one nothing changes and the answer lists them.
--
-- What goes: the workspaces the user owns (after transfers) with every row in them, and the
-- user's own rows everywhere else (created_by, or user_id for memberships and account tables);
-- nothing of anybody else's, except blocks of day plans, derived from tasks and routines, that
-- point at what goes. Others' rows that hang under the user's rows stay: a nullable link is
-- detached (a subtask becomes a top-level task); a row that cannot stand alone (a milestone
-- under a goal) keeps the parent, handed over to the workspace's owner. Others' invitations
-- the user accepted stay, no longer naming them (nor the address they were bound to).
--
-- Every row is counted by the statement that changes it, deleting children before parents, so
-- that no cascade removes anything uncounted. The receipt: {removed, detached, handed_over}
-- (per "schema.table"), workspaces_deleted, workspaces_transferred.
CREATE OR REPLACE FUNCTION app.delete_account(decisions jsonb) RETURNS jsonb
  LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp
  AS $$
DECLARE
  me uuid := app.current_user_id();
  my_email text;
  ws record;
  act text;
  heir uuid;
  pending jsonb := '[]';
  heirs jsonb := '{}';
  transferred jsonb := '[]';
  doomed uuid[];
  -- Workspaces outside the doomed ones that hold rows of the user.
  elsewhere uuid[];
  derived regclass[] := ARRAY['app.day_plan_items'::regclass];
  family regclass[];
  -- Per table (by oid), a format() template (%1$s: the alias) of the condition naming the rows
  -- that go; bound to $1 the user, $2 the doomed workspaces, $3 the user's email.
  cond jsonb := '{}';
  removed jsonb := '{}';
  detached jsonb := '{}';
  handed jsonb := '{}';
  t record;
  l record;
  tbl regclass;
  n bigint;
  changed bigint;
  hits text;
  sets text;
  test text;
  mine text;
  pending_tables regclass[];
  ready regclass[];
  cut oid[] := '{}';
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

  FOR ws IN SELECT h.key AS wid, h.value #>> '{}' AS heir FROM jsonb_each(heirs) h LOOP
    UPDATE app.workspace_members SET role = 'owner' WHERE workspace_id = ws.wid::uuid AND user_id = ws.heir::uuid;
    UPDATE app.workspaces SET owner_id = ws.heir::uuid, version = version + 1, updated_at = now()
    WHERE id = ws.wid::uuid;
    transferred := transferred || jsonb_build_object('workspace_id', ws.wid::uuid);
  END LOOP;

  SELECT u.email INTO my_email FROM auth.users u WHERE u.id = me;
  doomed := ARRAY(SELECT w.id FROM app.workspaces w WHERE w.owner_id = me ORDER BY w.id);
  family := ARRAY(SELECT DISTINCT k.conrelid::regclass FROM pg_catalog.pg_constraint k
                  WHERE k.contype = 'f' AND k.confrelid = 'app.workspaces'::regclass);

  -- The rows that go, table by table.
  FOREACH tbl IN ARRAY family LOOP
    cond := cond || jsonb_build_object(tbl::oid::text, CASE
      WHEN tbl = 'app.workspace_members'::regclass THEN '%1$s.workspace_id = ANY ($2) OR %1$s.user_id = $1'
      -- Invitations to the user's address that were never accepted are the user's data too.
      WHEN tbl = 'app.workspace_invites'::regclass
        THEN '%1$s.workspace_id = ANY ($2) OR %1$s.created_by = $1 OR (%1$s.accepted_at IS NULL AND %1$s.email = $3)'
      ELSE '%1$s.workspace_id = ANY ($2) OR %1$s.created_by = $1' END);
  END LOOP;
  cond := cond || jsonb_build_object('app.workspaces'::regclass::oid::text, '%1$s.id = ANY ($2)',
                                     'auth.users'::regclass::oid::text, '%1$s.id = $1');
  -- Every other table with a column naming a user: the rows naming this one (and mail to them).
  FOR t IN
    SELECT k.conrelid::regclass AS tbl,
           string_agg(format('%%1$s.%I = $1', a.attname), ' OR ' ORDER BY a.attname) AS c
    FROM pg_catalog.pg_constraint k
    JOIN pg_catalog.pg_attribute a ON a.attrelid = k.conrelid AND a.attnum = k.conkey[1]
    WHERE k.contype = 'f' AND k.confrelid = 'auth.users'::regclass AND NOT cond ? k.conrelid::oid::text
    GROUP BY k.conrelid
  LOOP
    cond := cond || jsonb_build_object(t.tbl::oid::text,
      t.c || CASE WHEN t.tbl = 'ops.outbox'::regclass THEN ' OR %1$s.to_address = $3' ELSE '' END);
  END LOOP;
  -- Rows that would go by cascade with those (refresh tokens of sessions), so they are counted.
  LOOP
    changed := 0;
    FOR t IN
      SELECT k.conrelid::regclass AS tbl, k.confrelid::regclass AS parent, ca.attname AS col, pa.attname AS pcol
      FROM pg_catalog.pg_constraint k
      JOIN pg_catalog.pg_attribute ca ON ca.attrelid = k.conrelid AND ca.attnum = k.conkey[1]
      JOIN pg_catalog.pg_attribute pa ON pa.attrelid = k.confrelid AND pa.attnum = k.confkey[1]
      WHERE k.contype = 'f' AND k.confdeltype = 'c' AND cardinality(k.conkey) = 1
        AND cond ? k.confrelid::oid::text AND NOT cond ? k.conrelid::oid::text
      ORDER BY 1, 3
    LOOP
      cond := cond || jsonb_build_object(t.tbl::oid::text,
        coalesce((cond ->> t.tbl::oid::text) || ' OR ', '')
        || format('%%1$s.%I IN (SELECT p.%I FROM %s p WHERE %s)', t.col, t.pcol, t.parent,
                  format(cond ->> t.parent::oid::text, 'p')));
      changed := changed + 1;
    END LOOP;
    EXIT WHEN changed = 0;
  END LOOP;

  SELECT string_agg(format('SELECT x.workspace_id FROM %s x WHERE x.created_by = $1 AND x.workspace_id <> ALL ($2)', f), ' UNION ')
    INTO hits FROM unnest(family) f
   WHERE f <> 'app.workspace_members'::regclass;
  EXECUTE format('SELECT coalesce(array_agg(DISTINCT w), ''{}'') FROM (%s) s(w)', hits) INTO elsewhere USING me, doomed;
  -- The user's rows outside the doomed workspaces (alias %1$s); $4: those workspaces.
  mine := '%1$s.workspace_id = ANY ($4) AND %1$s.created_by = $1';

  -- Others' rows that cannot stand alone keep the user's row they hang under, handed to the
  -- workspace's owner; again until nothing changes, as that row may hang under another.
  LOOP
    changed := 0;
    FOR l IN SELECT * FROM app.workspace_links k
             WHERE NOT k.nullable AND k.child <> ALL (derived) AND k.child <> k.parent
             ORDER BY k.parent::text, k.child::text, k.col LOOP
      EXECUTE format(
        'UPDATE %1$s y SET created_by = w.owner_id%4$s FROM app.workspaces w
         WHERE w.id = y.workspace_id AND %5$s
           AND EXISTS (SELECT 1 FROM %2$s x WHERE x.workspace_id = y.workspace_id AND x.%3$I = y.id AND x.created_by <> $1)',
        l.parent, l.child, l.col, app.version_bump(l.parent, 'y'), format(mine, 'y'))
        USING me, doomed, my_email, elsewhere;
      GET DIAGNOSTICS n = ROW_COUNT;
      handed := app.tally(handed, l.parent::text, n);
      changed := changed + n;
    END LOOP;
    EXIT WHEN changed = 0;
  END LOOP;
  -- Who created a workspace that stays, or added one of its members, becomes its owner.
  FOR t IN
    SELECT k.conrelid::regclass AS tbl, a.attname AS col
    FROM pg_catalog.pg_constraint k
    JOIN pg_catalog.pg_attribute a ON a.attrelid = k.conrelid AND a.attnum = k.conkey[1]
    WHERE k.contype = 'f' AND k.confrelid = 'auth.users'::regclass AND a.attnotnull
      AND k.conrelid IN ('app.workspaces'::regclass, 'app.workspace_members'::regclass)
      AND a.attname NOT IN ('owner_id', 'user_id')
    ORDER BY 1, 2
  LOOP
    EXECUTE format('UPDATE %1$s x SET %2$I = w.owner_id%3$s FROM app.workspaces w
                    WHERE w.id = x.%4$I AND x.%2$I = $1 AND NOT (%5$s)',
                   t.tbl, t.col, app.version_bump(t.tbl, 'x'),
                   CASE WHEN t.tbl = 'app.workspaces'::regclass THEN 'id' ELSE 'workspace_id' END,
                   format(cond ->> t.tbl::oid::text, 'x'))
      USING me, doomed, my_email;
    GET DIAGNOSTICS n = ROW_COUNT;
    handed := app.tally(handed, t.tbl::text, n);
  END LOOP;

  -- Blocks of day plans pointing at what goes, whoever planned them.
  FOREACH tbl IN ARRAY derived LOOP
    hits := format('SELECT x.workspace_id, x.id FROM %s x WHERE %s', tbl, format(cond ->> tbl::oid::text, 'x'));
    FOR l IN SELECT * FROM app.workspace_links k WHERE k.child = tbl ORDER BY k.col LOOP
      hits := hits || format(' UNION SELECT x.workspace_id, x.id FROM %1$s x JOIN %2$s y ON y.workspace_id = x.workspace_id AND y.id = x.%3$I WHERE %4$s',
                             tbl, l.parent, l.col, format(mine, 'y'));
    END LOOP;
    EXECUTE format('DELETE FROM %1$s x USING (%2$s) h WHERE x.workspace_id = h.workspace_id AND x.id = h.id', tbl, hits)
      USING me, doomed, my_email, elsewhere;
    GET DIAGNOSTICS n = ROW_COUNT;
    removed := app.tally(removed, tbl::text, n);
  END LOOP;

  -- Others' rows pointing at what goes by a nullable link let go of it, one statement per table
  -- so that each row is counted once; so do columns naming the user in others' rows.
  FOREACH tbl IN ARRAY family LOOP
    CONTINUE WHEN tbl = ANY (derived);
    hits := NULL;
    sets := NULL;
    FOR l IN SELECT * FROM app.workspace_links k WHERE k.child = tbl AND k.nullable ORDER BY k.col LOOP
      test := format('EXISTS (SELECT 1 FROM %1$s y WHERE y.workspace_id = x.workspace_id AND y.id = x.%2$I AND %3$s)',
                     l.parent, l.col, format(mine, 'y'));
      hits := concat_ws(' UNION ', hits,
        format('SELECT x.workspace_id, x.id FROM %1$s x JOIN %2$s y ON y.workspace_id = x.workspace_id AND y.id = x.%3$I WHERE %4$s',
               tbl, l.parent, l.col, format(mine, 'y')));
      sets := concat_ws(', ', sets, format('%1$I = CASE WHEN %2$s THEN NULL ELSE x.%1$I END', l.col, test));
      -- A decision that loses its chosen option is open again, as when the option is deleted.
      IF tbl = 'app.decisions'::regclass AND l.col = 'chosen_option_id' THEN
        sets := sets || format(', status = CASE WHEN %1$s THEN ''open'' ELSE x.status END'
                               ', decided_at = CASE WHEN %1$s THEN NULL ELSE x.decided_at END', test);
      END IF;
    END LOOP;
    FOR t IN
      SELECT a.attname AS col
      FROM pg_catalog.pg_constraint k
      JOIN pg_catalog.pg_attribute a ON a.attrelid = k.conrelid AND a.attnum = k.conkey[1]
      WHERE k.contype = 'f' AND k.confrelid = 'auth.users'::regclass AND k.conrelid = tbl AND NOT a.attnotnull
      ORDER BY 1
    LOOP
      hits := concat_ws(' UNION ', hits, format('SELECT x.workspace_id, x.id FROM %1$s x WHERE x.%2$I = $1', tbl, t.col));
      sets := concat_ws(', ', sets, format('%1$I = CASE WHEN x.%1$I = $1 THEN NULL ELSE x.%1$I END', t.col));
      -- The address an accepted invitation was bound to was the user's.
      IF tbl = 'app.workspace_invites'::regclass AND t.col = 'accepted_by' THEN
        sets := sets || ', email = CASE WHEN x.accepted_by = $1 THEN NULL ELSE x.email END';
      END IF;
    END LOOP;
    CONTINUE WHEN hits IS NULL;
    EXECUTE format('UPDATE %1$s x SET %2$s%3$s FROM (%4$s) h
                    WHERE x.workspace_id = h.workspace_id AND x.id = h.id AND NOT (%5$s)',
                   tbl, sets, app.version_bump(tbl, 'x'), hits, format(cond ->> tbl::oid::text, 'x'))
      USING me, doomed, my_email, elsewhere;
    GET DIAGNOSTICS n = ROW_COUNT;
    detached := app.tally(detached, tbl::text, n);
  END LOOP;

  -- Now only rows that go point at rows that go: delete them children first, each table once
  -- every table linking to it is done. A cycle (a decision and its options) is cut by clearing
  -- a nullable link inside the rows that go.
  pending_tables := ARRAY(SELECT k::oid::regclass FROM jsonb_object_keys(cond) k ORDER BY 1);
  WHILE cardinality(pending_tables) > 0 LOOP
    ready := ARRAY(
      SELECT x FROM unnest(pending_tables) x
      WHERE NOT EXISTS (SELECT 1 FROM pg_catalog.pg_constraint k
                        WHERE k.contype = 'f' AND k.confrelid = x AND k.conrelid <> x
                          AND k.conrelid = ANY (pending_tables) AND k.oid <> ALL (cut))
      ORDER BY x::text);
    IF cardinality(ready) = 0 THEN
      SELECT k.oid AS con, k.conrelid::regclass AS child, a.attname AS col INTO l
      FROM pg_catalog.pg_constraint k
      JOIN pg_catalog.pg_attribute a ON a.attrelid = k.conrelid AND a.attnum = ANY (k.conkey)
      WHERE k.contype = 'f' AND k.conrelid = ANY (pending_tables) AND k.confrelid = ANY (pending_tables)
        AND k.conrelid <> k.confrelid AND k.oid <> ALL (cut) AND NOT a.attnotnull
      ORDER BY k.conrelid::regclass::text, a.attname LIMIT 1;
      IF NOT FOUND THEN
        RAISE EXCEPTION 'account deletion cannot order %', pending_tables;
      END IF;
      EXECUTE format('UPDATE %1$s x SET %2$I = NULL WHERE x.%2$I IS NOT NULL AND (%3$s)',
                     l.child, l.col, format(cond ->> l.child::oid::text, 'x'))
        USING me, doomed, my_email;
      cut := cut || l.con;
      CONTINUE;
    END IF;
    FOREACH tbl IN ARRAY ready LOOP
      EXECUTE format('DELETE FROM %s x WHERE %s', tbl, format(cond ->> tbl::oid::text, 'x'))
        USING me, doomed, my_email;
      GET DIAGNOSTICS n = ROW_COUNT;
      removed := app.tally(removed, tbl::text, n);
    END LOOP;
    pending_tables := ARRAY(SELECT x FROM unnest(pending_tables) x WHERE x <> ALL (ready) ORDER BY 1);
  END LOOP;

  DELETE FROM ops.rate_limits WHERE key LIKE '%' || me::text || '%';
  GET DIAGNOSTICS n = ROW_COUNT;
  removed := app.tally(removed, 'ops.rate_limits', n);

  RETURN jsonb_build_object('removed', removed, 'detached', detached, 'handed_over', handed,
                            'workspaces_deleted', to_jsonb(doomed), 'workspaces_transferred', transferred);
END
$$;

RESET ROLE;
