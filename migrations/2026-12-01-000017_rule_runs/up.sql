-- Automation rules run: each run of a rule is recorded for the user it ran for (the rule's
-- owner), once per event; the detector that finds what time (not a write) causes reads the
-- enabled rules through one function; tasks a rule made are marked, so that the detector passes
-- them by and a rule's actions never start rules again. Runs expire after 90 days.
SET ROLE minime_owner;

ALTER TABLE app.tasks ADD COLUMN made_by_rule boolean NOT NULL DEFAULT false;

CREATE TABLE app.rule_runs (
  id           uuid NOT NULL,
  workspace_id uuid NOT NULL REFERENCES app.workspaces (id) ON DELETE CASCADE,
  -- The user the run acted for: the rule's owner.
  created_by   uuid NOT NULL REFERENCES auth.users (id) ON DELETE CASCADE,
  rule_id      uuid NOT NULL,
  trigger      text NOT NULL CHECK (trigger IN ('task_completed', 'task_overdue', 'capture_created', 'routine_missed', 'schedule')),
  -- The task, capture or routine the event is about (none for a schedule); no link, since
  -- the record outlives it.
  subject_id   uuid,
  -- What fired it (a job, a task and its due date, a routine and its date, a scheduled date):
  -- a rule runs once per event.
  event        text NOT NULL CHECK (char_length(event) BETWEEN 1 AND 200),
  outcome      text NOT NULL CHECK (outcome IN ('done', 'skipped', 'failed', 'limited')),
  error        text CHECK (char_length(error) <= 2000),
  ran_at       timestamptz NOT NULL,
  created_at   timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (workspace_id, id),
  CONSTRAINT rule_runs_rule_id_fkey FOREIGN KEY (workspace_id, rule_id)
    REFERENCES app.automation_rules (workspace_id, id) ON DELETE CASCADE,
  CONSTRAINT rule_runs_once UNIQUE (workspace_id, rule_id, event)
);
SELECT app.add_workspace_table('rule_runs');
-- A run is a record: nobody edits it.
REVOKE UPDATE ON app.rule_runs FROM minime_app;
CREATE INDEX rule_runs_rule_list_idx ON app.rule_runs (workspace_id, rule_id, created_at DESC, id DESC);
-- The hourly limit counts a user's recent runs; the cleanup removes old ones.
CREATE INDEX rule_runs_recent_idx ON app.rule_runs (created_by, ran_at);
CREATE INDEX rule_runs_ran_at_idx ON app.rule_runs (ran_at);

-- A write that may start rules asks whether its workspace has an enabled rule of that trigger.
CREATE INDEX automation_rules_trigger_idx ON app.automation_rules (workspace_id, (trigger ->> 'type')) WHERE enabled;

-- The enabled rules that time starts (overdue tasks, missed routines, schedules), for the
-- detector, which then acts as each rule's owner.
CREATE FUNCTION ops.rules_watched()
  RETURNS TABLE (id uuid, workspace_id uuid, created_by uuid, trigger jsonb, created_at timestamptz)
  LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
  AS $$
    SELECT r.id, r.workspace_id, r.created_by, r.trigger, r.created_at FROM app.automation_rules r
    WHERE r.enabled AND r.trigger ->> 'type' IN ('task_overdue', 'routine_missed', 'schedule')
    ORDER BY r.created_by, r.id
  $$;
REVOKE ALL ON FUNCTION ops.rules_watched() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION ops.rules_watched() TO minime_app;

-- The cleanup as before, and rule runs after 90 days.
CREATE OR REPLACE FUNCTION ops.cleanup(p_at timestamptz)
  RETURNS TABLE (tbl text, removed bigint)
  LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp
  AS $$
DECLARE
  at timestamptz := greatest(now(), p_at);
  n bigint;
BEGIN
  DELETE FROM ops.rate_limits WHERE window_start < at - interval '1 day';
  GET DIAGNOSTICS n = ROW_COUNT; tbl := 'ops.rate_limits'; removed := n; RETURN NEXT;
  DELETE FROM auth.signin_failures
    WHERE updated_at < at - interval '1 day' AND (locked_until IS NULL OR locked_until < at);
  GET DIAGNOSTICS n = ROW_COUNT; tbl := 'auth.signin_failures'; removed := n; RETURN NEXT;
  DELETE FROM auth.email_tokens WHERE expires_at < at - interval '1 day';
  GET DIAGNOSTICS n = ROW_COUNT; tbl := 'auth.email_tokens'; removed := n; RETURN NEXT;
  -- A session's refresh tokens go with it (ON DELETE CASCADE).
  DELETE FROM auth.sessions
    WHERE expires_at < at - interval '7 days' OR revoked_at < at - interval '7 days';
  GET DIAGNOSTICS n = ROW_COUNT; tbl := 'auth.sessions'; removed := n; RETURN NEXT;
  DELETE FROM ops.idempotency_keys WHERE created_at < at - interval '24 hours';
  GET DIAGNOSTICS n = ROW_COUNT; tbl := 'ops.idempotency_keys'; removed := n; RETURN NEXT;
  DELETE FROM ops.outbox
    WHERE (sent_at < at - interval '30 days') OR (failed_at < at - interval '30 days');
  GET DIAGNOSTICS n = ROW_COUNT; tbl := 'ops.outbox'; removed := n; RETURN NEXT;
  DELETE FROM app.ai_previews WHERE expires_at < at - interval '1 day';
  GET DIAGNOSTICS n = ROW_COUNT; tbl := 'app.ai_previews'; removed := n; RETURN NEXT;
  DELETE FROM ops.jobs WHERE done_at < at - interval '7 days';
  GET DIAGNOSTICS n = ROW_COUNT; tbl := 'ops.jobs'; removed := n; RETURN NEXT;
  DELETE FROM app.rule_runs WHERE ran_at < at - interval '90 days';
  GET DIAGNOSTICS n = ROW_COUNT; tbl := 'app.rule_runs'; removed := n; RETURN NEXT;
END
$$;

RESET ROLE;
