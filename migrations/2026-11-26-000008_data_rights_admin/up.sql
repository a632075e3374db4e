-- Keyed hashes of user ids for the admin views (hmac). Extensions and roles need a superuser,
-- which is who runs migrations.
CREATE EXTENSION IF NOT EXISTS pgcrypto WITH SCHEMA public;
DO $$
BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'minime_admin') THEN
    CREATE ROLE minime_admin NOLOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOBYPASSRLS NOINHERIT;
  END IF;
END
$$;
-- The server switches to minime_admin (SET LOCAL ROLE) for admin requests; from then on the
-- transaction can read no table but the audit log, and reaches aggregates only through the
-- functions below.
GRANT minime_admin TO minime_app;
GRANT USAGE ON SCHEMA ops TO minime_admin;

SET ROLE minime_owner;

ALTER TABLE auth.users ADD COLUMN locked_at timestamptz;

-- The invitation one accepted is part of one's own data (and of one's export).
CREATE POLICY workspace_invites_accepted ON app.workspace_invites FOR SELECT
  USING (accepted_by = (SELECT app.current_user_id()));

CREATE TABLE auth.admins (
  user_id    uuid PRIMARY KEY REFERENCES auth.users (id) ON DELETE CASCADE,
  granted_at timestamptz NOT NULL DEFAULT now()
);
GRANT SELECT ON auth.admins TO minime_app;

-- Append-only: admins may read it; nobody changes it (no grant, and a trigger for the owner).
CREATE TABLE ops.admin_audit (
  id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  actor      text NOT NULL,
  action     text NOT NULL,
  target     text,
  detail     jsonb NOT NULL DEFAULT '{}',
  request_id text,
  created_at timestamptz NOT NULL DEFAULT now()
);
GRANT SELECT ON ops.admin_audit TO minime_admin;
CREATE FUNCTION ops.admin_audit_is_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'the admin audit log is append-only' USING ERRCODE = 'insufficient_privilege';
END
$$;
CREATE TRIGGER admin_audit_no_update BEFORE UPDATE OR DELETE ON ops.admin_audit
  FOR EACH ROW EXECUTE FUNCTION ops.admin_audit_is_append_only();
CREATE TRIGGER admin_audit_no_truncate BEFORE TRUNCATE ON ops.admin_audit
  FOR EACH STATEMENT EXECUTE FUNCTION ops.admin_audit_is_append_only();

CREATE FUNCTION ops.admin_ref(key bytea, id uuid) RETURNS text
  LANGUAGE sql IMMUTABLE STRICT SET search_path = pg_catalog, public
  AS $$ SELECT substr(encode(public.hmac(convert_to(id::text, 'UTF8'), key, 'sha256'::text), 'hex'), 1, 24) $$;
REVOKE ALL ON FUNCTION ops.admin_ref(bytea, uuid) FROM PUBLIC;

CREATE FUNCTION ops.admin_check() RETURNS uuid
  LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog
  AS $$
DECLARE
  me uuid := app.current_user_id();
BEGIN
  IF me IS NULL OR NOT EXISTS (SELECT 1 FROM auth.admins a WHERE a.user_id = me) THEN
    RAISE EXCEPTION 'not an administrator' USING ERRCODE = 'insufficient_privilege';
  END IF;
  RETURN me;
END
$$;
REVOKE ALL ON FUNCTION ops.admin_check() FROM PUBLIC;

CREATE FUNCTION ops.admin_log(key bytea, action text, target text, detail jsonb, request_id text)
  RETURNS void LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog
  AS $$
BEGIN
  INSERT INTO ops.admin_audit (actor, action, target, detail, request_id)
  VALUES (ops.admin_ref(key, ops.admin_check()), action, target, coalesce(detail, '{}'), request_id);
END
$$;

-- Statistics only: counts, never a row.
CREATE FUNCTION ops.admin_stats() RETURNS jsonb
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

-- Users by keyed hash with non-personal status; keyset pages in hash order.
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

-- One action on the user behind a hash, logged in the same transaction. False: no such user.
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

REVOKE ALL ON FUNCTION ops.admin_log(bytea, text, text, jsonb, text), ops.admin_stats(),
  ops.admin_users(bytea, text, integer), ops.admin_act(bytea, text, text, text, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION ops.admin_log(bytea, text, text, jsonb, text), ops.admin_stats(),
  ops.admin_users(bytea, text, integer), ops.admin_act(bytea, text, text, text, text) TO minime_admin;

-- Account deletion, acting on the current user only. Shared workspaces owned with other members
-- need a decision each (`transfer` to the longest-standing member whose plan allows it, or
-- `delete`); without one nothing changes and the answer lists them. Otherwise: counts what goes
-- (every table with a column referencing the user or one of the workspaces being deleted, found
-- in the catalogue), hands kept workspaces' structural rows to their owners, deletes the owned
-- workspaces and then the user, whose foreign keys cascade to every remaining row.
CREATE FUNCTION app.delete_account(decisions jsonb) RETURNS jsonb
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
REVOKE ALL ON FUNCTION app.delete_account(jsonb) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION app.delete_account(jsonb) TO minime_app;

RESET ROLE;
