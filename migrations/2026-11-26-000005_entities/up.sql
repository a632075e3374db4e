SET ROLE minime_owner;

-- Shared workspaces: single-use invites (stored hashed), optionally bound to an email.

CREATE TABLE app.workspace_invites (
  id            uuid PRIMARY KEY,
  workspace_id  uuid NOT NULL REFERENCES app.workspaces (id) ON DELETE CASCADE,
  created_by    uuid NOT NULL REFERENCES auth.users (id) ON DELETE CASCADE,
  token_hash    bytea NOT NULL UNIQUE,
  email         text,
  expires_at    timestamptz NOT NULL,
  accepted_by   uuid REFERENCES auth.users (id) ON DELETE CASCADE,
  accepted_at   timestamptz,
  revoked_at    timestamptz,
  created_at    timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX workspace_invites_workspace_idx ON app.workspace_invites (workspace_id, created_at DESC, id DESC);
CREATE INDEX workspace_invites_created_by_idx ON app.workspace_invites (created_by);
CREATE INDEX workspace_invites_accepted_by_idx ON app.workspace_invites (accepted_by);

-- Every workspace table below carries the same columns and the same four policies: members of
-- the row's workspace may read and write it; new rows are attributed to the caller.
CREATE FUNCTION app.add_workspace_table(tbl text) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
  EXECUTE format('CREATE INDEX %I ON app.%I (workspace_id, created_at DESC, id DESC)', tbl || '_list_idx', tbl);
  EXECUTE format('CREATE INDEX %I ON app.%I (created_by)', tbl || '_created_by_idx', tbl);
  EXECUTE format('ALTER TABLE app.%I ENABLE ROW LEVEL SECURITY', tbl);
  EXECUTE format('ALTER TABLE app.%I FORCE ROW LEVEL SECURITY', tbl);
  EXECUTE format('CREATE POLICY %I ON app.%I FOR SELECT USING (workspace_id = ANY ((SELECT app.member_workspace_ids())::uuid[]))', tbl || '_select', tbl);
  EXECUTE format('CREATE POLICY %I ON app.%I FOR INSERT WITH CHECK (workspace_id = ANY ((SELECT app.member_workspace_ids())::uuid[]) AND created_by = (SELECT app.current_user_id()))', tbl || '_insert', tbl);
  EXECUTE format('CREATE POLICY %I ON app.%I FOR UPDATE USING (workspace_id = ANY ((SELECT app.member_workspace_ids())::uuid[])) WITH CHECK (workspace_id = ANY ((SELECT app.member_workspace_ids())::uuid[]))', tbl || '_update', tbl);
  EXECUTE format('CREATE POLICY %I ON app.%I FOR DELETE USING (workspace_id = ANY ((SELECT app.member_workspace_ids())::uuid[]))', tbl || '_delete', tbl);
  EXECUTE format('GRANT SELECT, INSERT, UPDATE, DELETE ON app.%I TO minime_app', tbl);
END
$$;

CREATE TABLE app.life_areas (
  id           uuid PRIMARY KEY,
  workspace_id uuid NOT NULL REFERENCES app.workspaces (id) ON DELETE CASCADE,
  created_by   uuid NOT NULL REFERENCES auth.users (id) ON DELETE CASCADE,
  name         text NOT NULL CHECK (char_length(name) BETWEEN 1 AND 100),
  color        text NOT NULL DEFAULT '#6366f1' CHECK (color ~ '^#[0-9a-f]{6}$'),
  position     integer NOT NULL DEFAULT 0,
  archived     boolean NOT NULL DEFAULT false,
  version      integer NOT NULL DEFAULT 1,
  created_at   timestamptz NOT NULL DEFAULT now(),
  updated_at   timestamptz NOT NULL DEFAULT now()
);
SELECT app.add_workspace_table('life_areas');

CREATE TABLE app.goals (
  id           uuid PRIMARY KEY,
  workspace_id uuid NOT NULL REFERENCES app.workspaces (id) ON DELETE CASCADE,
  created_by   uuid NOT NULL REFERENCES auth.users (id) ON DELETE CASCADE,
  title        text NOT NULL CHECK (char_length(title) BETWEEN 1 AND 200),
  why          text CHECK (char_length(why) <= 5000),
  target_date  date,
  status       text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'paused', 'achieved', 'abandoned')),
  area_id      uuid REFERENCES app.life_areas (id) ON DELETE SET NULL,
  version      integer NOT NULL DEFAULT 1,
  created_at   timestamptz NOT NULL DEFAULT now(),
  updated_at   timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX goals_area_idx ON app.goals (area_id);
SELECT app.add_workspace_table('goals');

CREATE TABLE app.milestones (
  id           uuid PRIMARY KEY,
  workspace_id uuid NOT NULL REFERENCES app.workspaces (id) ON DELETE CASCADE,
  created_by   uuid NOT NULL REFERENCES auth.users (id) ON DELETE CASCADE,
  goal_id      uuid NOT NULL REFERENCES app.goals (id) ON DELETE CASCADE,
  title        text NOT NULL CHECK (char_length(title) BETWEEN 1 AND 200),
  due_date     date,
  completed_at timestamptz,
  position     integer NOT NULL DEFAULT 0,
  version      integer NOT NULL DEFAULT 1,
  created_at   timestamptz NOT NULL DEFAULT now(),
  updated_at   timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX milestones_goal_idx ON app.milestones (goal_id);
SELECT app.add_workspace_table('milestones');

CREATE TABLE app.projects (
  id           uuid PRIMARY KEY,
  workspace_id uuid NOT NULL REFERENCES app.workspaces (id) ON DELETE CASCADE,
  created_by   uuid NOT NULL REFERENCES auth.users (id) ON DELETE CASCADE,
  title        text NOT NULL CHECK (char_length(title) BETWEEN 1 AND 200),
  notes        text CHECK (char_length(notes) <= 20000),
  status       text NOT NULL DEFAULT 'active' CHECK (status IN ('planned', 'active', 'on_hold', 'completed', 'archived')),
  area_id      uuid REFERENCES app.life_areas (id) ON DELETE SET NULL,
  goal_id      uuid REFERENCES app.goals (id) ON DELETE SET NULL,
  target_date  date,
  completed_at timestamptz,
  version      integer NOT NULL DEFAULT 1,
  created_at   timestamptz NOT NULL DEFAULT now(),
  updated_at   timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX projects_area_idx ON app.projects (area_id);
CREATE INDEX projects_goal_idx ON app.projects (goal_id);
SELECT app.add_workspace_table('projects');

CREATE TABLE app.tasks (
  id               uuid PRIMARY KEY,
  workspace_id     uuid NOT NULL REFERENCES app.workspaces (id) ON DELETE CASCADE,
  created_by       uuid NOT NULL REFERENCES auth.users (id) ON DELETE CASCADE,
  title            text NOT NULL CHECK (char_length(title) BETWEEN 1 AND 500),
  notes            text CHECK (char_length(notes) <= 20000),
  status           text NOT NULL DEFAULT 'todo' CHECK (status IN ('todo', 'in_progress', 'done', 'cancelled')),
  priority         smallint NOT NULL DEFAULT 4 CHECK (priority BETWEEN 1 AND 4),
  energy           text CHECK (energy IN ('low', 'medium', 'high')),
  estimate_minutes integer CHECK (estimate_minutes BETWEEN 1 AND 1440),
  -- A due date alone, or with a time; a time zone fixes the instant, none floats with the user.
  due_date         date,
  due_time         time,
  due_time_zone    text,
  scheduled_date   date,
  parent_id        uuid REFERENCES app.tasks (id) ON DELETE CASCADE,
  project_id       uuid REFERENCES app.projects (id) ON DELETE SET NULL,
  area_id          uuid REFERENCES app.life_areas (id) ON DELETE SET NULL,
  goal_id          uuid REFERENCES app.goals (id) ON DELETE SET NULL,
  position         integer NOT NULL DEFAULT 0,
  labels           text[] NOT NULL DEFAULT '{}',
  recurrence       text,
  -- The series' first date: month-end clamping and COUNT are measured from it, while due_date
  -- moves from occurrence to occurrence.
  recurrence_start date,
  reset_steps      boolean NOT NULL DEFAULT true,
  completed_at     timestamptz,
  version          integer NOT NULL DEFAULT 1,
  created_at       timestamptz NOT NULL DEFAULT now(),
  updated_at       timestamptz NOT NULL DEFAULT now(),
  CHECK (due_time IS NULL OR due_date IS NOT NULL),
  CHECK (due_time_zone IS NULL OR due_time IS NOT NULL),
  CHECK (recurrence IS NULL OR (due_date IS NOT NULL AND recurrence_start IS NOT NULL)),
  CHECK (parent_id <> id)
);
CREATE INDEX tasks_parent_idx ON app.tasks (parent_id);
CREATE INDEX tasks_project_idx ON app.tasks (project_id);
CREATE INDEX tasks_area_idx ON app.tasks (area_id);
CREATE INDEX tasks_goal_idx ON app.tasks (goal_id);
CREATE INDEX tasks_open_due_idx ON app.tasks (workspace_id, due_date) WHERE status IN ('todo', 'in_progress');
SELECT app.add_workspace_table('tasks');

CREATE TABLE app.routines (
  id               uuid PRIMARY KEY,
  workspace_id     uuid NOT NULL REFERENCES app.workspaces (id) ON DELETE CASCADE,
  created_by       uuid NOT NULL REFERENCES auth.users (id) ON DELETE CASCADE,
  title            text NOT NULL CHECK (char_length(title) BETWEEN 1 AND 200),
  -- RRULE in the owner's time zone; the series starts on start_date.
  rrule            text NOT NULL,
  start_date       date NOT NULL,
  time_of_day      time,
  duration_minutes integer CHECK (duration_minutes BETWEEN 1 AND 1440),
  steps            jsonb NOT NULL DEFAULT '[]' CHECK (jsonb_typeof(steps) = 'array'),
  reset_steps      boolean NOT NULL DEFAULT true,
  area_id          uuid REFERENCES app.life_areas (id) ON DELETE SET NULL,
  ended_on         date,
  version          integer NOT NULL DEFAULT 1,
  created_at       timestamptz NOT NULL DEFAULT now(),
  updated_at       timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX routines_area_idx ON app.routines (area_id);
SELECT app.add_workspace_table('routines');

CREATE TABLE app.routine_completions (
  id              uuid PRIMARY KEY,
  workspace_id    uuid NOT NULL REFERENCES app.workspaces (id) ON DELETE CASCADE,
  created_by      uuid NOT NULL REFERENCES auth.users (id) ON DELETE CASCADE,
  routine_id      uuid NOT NULL REFERENCES app.routines (id) ON DELETE CASCADE,
  occurrence_date date NOT NULL,
  outcome         text NOT NULL CHECK (outcome IN ('done', 'skipped')),
  steps_done      jsonb NOT NULL DEFAULT '[]' CHECK (jsonb_typeof(steps_done) = 'array'),
  version         integer NOT NULL DEFAULT 1,
  created_at      timestamptz NOT NULL DEFAULT now(),
  updated_at      timestamptz NOT NULL DEFAULT now(),
  UNIQUE (routine_id, occurrence_date)
);
SELECT app.add_workspace_table('routine_completions');

CREATE TABLE app.capture_items (
  id                   uuid PRIMARY KEY,
  workspace_id         uuid NOT NULL REFERENCES app.workspaces (id) ON DELETE CASCADE,
  created_by           uuid NOT NULL REFERENCES auth.users (id) ON DELETE CASCADE,
  text                 text NOT NULL CHECK (char_length(text) BETWEEN 1 AND 5000),
  source               text NOT NULL DEFAULT 'manual' CHECK (source IN ('manual', 'voice', 'email', 'share', 'api')),
  status               text NOT NULL DEFAULT 'inbox' CHECK (status IN ('inbox', 'converted', 'archived')),
  converted_task_id    uuid REFERENCES app.tasks (id) ON DELETE SET NULL,
  converted_project_id uuid REFERENCES app.projects (id) ON DELETE SET NULL,
  converted_at         timestamptz,
  version              integer NOT NULL DEFAULT 1,
  created_at           timestamptz NOT NULL DEFAULT now(),
  updated_at           timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX capture_items_task_idx ON app.capture_items (converted_task_id);
CREATE INDEX capture_items_project_idx ON app.capture_items (converted_project_id);
SELECT app.add_workspace_table('capture_items');

CREATE TABLE app.reviews (
  id           uuid PRIMARY KEY,
  workspace_id uuid NOT NULL REFERENCES app.workspaces (id) ON DELETE CASCADE,
  created_by   uuid NOT NULL REFERENCES auth.users (id) ON DELETE CASCADE,
  kind         text NOT NULL CHECK (kind IN ('daily', 'weekly')),
  period_start date NOT NULL,
  period_end   date NOT NULL,
  answers      jsonb NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(answers) = 'object'),
  stats        jsonb NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(stats) = 'object'),
  version      integer NOT NULL DEFAULT 1,
  created_at   timestamptz NOT NULL DEFAULT now(),
  updated_at   timestamptz NOT NULL DEFAULT now(),
  CHECK (period_end >= period_start)
);
SELECT app.add_workspace_table('reviews');

CREATE TABLE app.decisions (
  id               uuid PRIMARY KEY,
  workspace_id     uuid NOT NULL REFERENCES app.workspaces (id) ON DELETE CASCADE,
  created_by       uuid NOT NULL REFERENCES auth.users (id) ON DELETE CASCADE,
  title            text NOT NULL CHECK (char_length(title) BETWEEN 1 AND 200),
  context          text CHECK (char_length(context) <= 20000),
  status           text NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'decided')),
  chosen_option_id uuid,
  decided_at       timestamptz,
  version          integer NOT NULL DEFAULT 1,
  created_at       timestamptz NOT NULL DEFAULT now(),
  updated_at       timestamptz NOT NULL DEFAULT now()
);
SELECT app.add_workspace_table('decisions');

CREATE TABLE app.decision_options (
  id           uuid PRIMARY KEY,
  workspace_id uuid NOT NULL REFERENCES app.workspaces (id) ON DELETE CASCADE,
  created_by   uuid NOT NULL REFERENCES auth.users (id) ON DELETE CASCADE,
  decision_id  uuid NOT NULL REFERENCES app.decisions (id) ON DELETE CASCADE,
  title        text NOT NULL CHECK (char_length(title) BETWEEN 1 AND 200),
  pros         text[] NOT NULL DEFAULT '{}',
  cons         text[] NOT NULL DEFAULT '{}',
  score        smallint CHECK (score BETWEEN 0 AND 10),
  position     integer NOT NULL DEFAULT 0,
  version      integer NOT NULL DEFAULT 1,
  created_at   timestamptz NOT NULL DEFAULT now(),
  updated_at   timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX decision_options_decision_idx ON app.decision_options (decision_id);
ALTER TABLE app.decisions ADD FOREIGN KEY (chosen_option_id) REFERENCES app.decision_options (id) ON DELETE SET NULL;
CREATE INDEX decisions_chosen_option_idx ON app.decisions (chosen_option_id);
SELECT app.add_workspace_table('decision_options');

CREATE TABLE app.automation_rules (
  id           uuid PRIMARY KEY,
  workspace_id uuid NOT NULL REFERENCES app.workspaces (id) ON DELETE CASCADE,
  created_by   uuid NOT NULL REFERENCES auth.users (id) ON DELETE CASCADE,
  name         text NOT NULL CHECK (char_length(name) BETWEEN 1 AND 200),
  enabled      boolean NOT NULL DEFAULT true,
  trigger      jsonb NOT NULL CHECK (jsonb_typeof(trigger) = 'object'),
  conditions   jsonb NOT NULL DEFAULT '[]' CHECK (jsonb_typeof(conditions) = 'array'),
  actions      jsonb NOT NULL CHECK (jsonb_typeof(actions) = 'array'),
  version      integer NOT NULL DEFAULT 1,
  created_at   timestamptz NOT NULL DEFAULT now(),
  updated_at   timestamptz NOT NULL DEFAULT now()
);
SELECT app.add_workspace_table('automation_rules');

CREATE TABLE app.focus_sessions (
  id              uuid PRIMARY KEY,
  workspace_id    uuid NOT NULL REFERENCES app.workspaces (id) ON DELETE CASCADE,
  created_by      uuid NOT NULL REFERENCES auth.users (id) ON DELETE CASCADE,
  task_id         uuid REFERENCES app.tasks (id) ON DELETE SET NULL,
  started_at      timestamptz NOT NULL,
  ended_at        timestamptz,
  planned_minutes integer CHECK (planned_minutes BETWEEN 1 AND 1440),
  note            text CHECK (char_length(note) <= 5000),
  version         integer NOT NULL DEFAULT 1,
  created_at      timestamptz NOT NULL DEFAULT now(),
  updated_at      timestamptz NOT NULL DEFAULT now(),
  CHECK (ended_at IS NULL OR ended_at >= started_at)
);
CREATE INDEX focus_sessions_task_idx ON app.focus_sessions (task_id);
-- One running session per user, across workspaces.
CREATE UNIQUE INDEX focus_sessions_one_running ON app.focus_sessions (created_by) WHERE ended_at IS NULL;
SELECT app.add_workspace_table('focus_sessions');

-- Per-user documents: one row per user, visible to that user only.
CREATE TABLE app.rule_settings (
  user_id                uuid PRIMARY KEY REFERENCES auth.users (id) ON DELETE CASCADE,
  day_starts_at          time NOT NULL DEFAULT '03:00',
  work_start             time NOT NULL DEFAULT '09:00',
  work_end               time NOT NULL DEFAULT '17:00',
  max_block_minutes      integer NOT NULL DEFAULT 90 CHECK (max_block_minutes BETWEEN 15 AND 480),
  high_energy_start      time NOT NULL DEFAULT '09:00',
  high_energy_end        time NOT NULL DEFAULT '12:00',
  morning_recap          boolean NOT NULL DEFAULT false,
  morning_recap_at       time NOT NULL DEFAULT '07:30',
  ai_enabled             boolean NOT NULL DEFAULT false,
  version                integer NOT NULL DEFAULT 1,
  created_at             timestamptz NOT NULL DEFAULT now(),
  updated_at             timestamptz NOT NULL DEFAULT now(),
  CHECK (work_end > work_start),
  CHECK (high_energy_end > high_energy_start)
);

CREATE TABLE app.onboarding_answers (
  user_id        uuid PRIMARY KEY REFERENCES auth.users (id) ON DELETE CASCADE,
  primary_needs  text[] NOT NULL DEFAULT '{}',
  guidance_level text NOT NULL DEFAULT 'balanced' CHECK (guidance_level IN ('minimal', 'balanced', 'guided')),
  available_time text NOT NULL DEFAULT '1_2h' CHECK (available_time IN ('under_1h', '1_2h', '2_4h', 'over_4h')),
  default_energy text NOT NULL DEFAULT 'medium' CHECK (default_energy IN ('low', 'medium', 'high')),
  completed_at   timestamptz,
  version        integer NOT NULL DEFAULT 1,
  created_at     timestamptz NOT NULL DEFAULT now(),
  updated_at     timestamptz NOT NULL DEFAULT now()
);

DO $$
DECLARE tbl text;
BEGIN
  FOREACH tbl IN ARRAY ARRAY['rule_settings', 'onboarding_answers'] LOOP
    EXECUTE format('ALTER TABLE app.%I ENABLE ROW LEVEL SECURITY', tbl);
    EXECUTE format('ALTER TABLE app.%I FORCE ROW LEVEL SECURITY', tbl);
    EXECUTE format('CREATE POLICY %I ON app.%I USING (user_id = (SELECT app.current_user_id())) WITH CHECK (user_id = (SELECT app.current_user_id()))', tbl || '_own', tbl);
    EXECUTE format('GRANT SELECT, INSERT, UPDATE, DELETE ON app.%I TO minime_app', tbl);
  END LOOP;
END
$$;

ALTER TABLE app.workspace_invites ENABLE ROW LEVEL SECURITY;
ALTER TABLE app.workspace_invites FORCE ROW LEVEL SECURITY;
CREATE POLICY workspace_invites_owner ON app.workspace_invites
  USING (workspace_id = ANY ((SELECT app.owned_workspace_ids())::uuid[]))
  WITH CHECK (workspace_id = ANY ((SELECT app.owned_workspace_ids())::uuid[]));
GRANT SELECT, INSERT, UPDATE, DELETE ON app.workspace_invites TO minime_app;

-- Accepting an invite: the invitee is no member yet, so policies would hide the invite.
-- This function checks the token and the optional bound email and adds the membership.
CREATE FUNCTION app.accept_invite(p_token_hash bytea, p_email text) RETURNS uuid
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
REVOKE ALL ON FUNCTION app.accept_invite(bytea, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION app.accept_invite(bytea, text) TO minime_app;
REVOKE ALL ON FUNCTION app.add_workspace_table(text) FROM PUBLIC;

-- Idempotency keys: a replayed POST answers the stored response.
CREATE TABLE ops.idempotency_keys (
  user_id      uuid NOT NULL REFERENCES auth.users (id) ON DELETE CASCADE,
  key          text NOT NULL,
  method       text NOT NULL,
  path         text NOT NULL,
  request_hash bytea NOT NULL,
  status       smallint NOT NULL,
  body         bytea NOT NULL,
  created_at   timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (user_id, key)
);
CREATE INDEX idempotency_keys_created_idx ON ops.idempotency_keys (created_at);
GRANT SELECT, INSERT, UPDATE, DELETE ON ops.idempotency_keys TO minime_app;

RESET ROLE;
