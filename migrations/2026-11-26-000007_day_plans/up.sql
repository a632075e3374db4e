SET ROLE minime_owner;

-- Stored daily plans: one per user, workspace and local date. A plan is personal even in a
-- shared workspace, so a restrictive policy narrows the workspace policies to its author.
CREATE TABLE app.day_plans (
  id                uuid PRIMARY KEY,
  workspace_id      uuid NOT NULL REFERENCES app.workspaces (id) ON DELETE CASCADE,
  created_by        uuid NOT NULL REFERENCES auth.users (id) ON DELETE CASCADE,
  plan_date         date NOT NULL,
  time_zone         text NOT NULL,
  window_start      timestamptz NOT NULL,
  window_end        timestamptz NOT NULL CHECK (window_end > window_start),
  available_minutes integer NOT NULL CHECK (available_minutes >= 0),
  busy              jsonb NOT NULL DEFAULT '[]' CHECK (jsonb_typeof(busy) = 'array'),
  -- What did not fit, with why: [{"kind", "id", "reason"}]. Not rows: nothing can answer them.
  unplanned         jsonb NOT NULL DEFAULT '[]' CHECK (jsonb_typeof(unplanned) = 'array'),
  computed_at       timestamptz NOT NULL DEFAULT now(),
  version           integer NOT NULL DEFAULT 1,
  created_at        timestamptz NOT NULL DEFAULT now(),
  updated_at        timestamptz NOT NULL DEFAULT now(),
  UNIQUE (created_by, workspace_id, plan_date)
);
SELECT app.add_workspace_table('day_plans');
CREATE POLICY day_plans_author ON app.day_plans AS RESTRICTIVE
  USING (created_by = (SELECT app.current_user_id()))
  WITH CHECK (created_by = (SELECT app.current_user_id()));

-- The plan's blocks, each with its reason. Accepting or rejecting one is the user's answer.
CREATE TABLE app.day_plan_items (
  id           uuid PRIMARY KEY,
  workspace_id uuid NOT NULL REFERENCES app.workspaces (id) ON DELETE CASCADE,
  created_by   uuid NOT NULL REFERENCES auth.users (id) ON DELETE CASCADE,
  plan_id      uuid NOT NULL REFERENCES app.day_plans (id) ON DELETE CASCADE,
  task_id      uuid REFERENCES app.tasks (id) ON DELETE CASCADE,
  routine_id   uuid REFERENCES app.routines (id) ON DELETE CASCADE,
  start_at     timestamptz NOT NULL,
  end_at       timestamptz NOT NULL,
  reason       text NOT NULL,
  status       text NOT NULL DEFAULT 'proposed' CHECK (status IN ('proposed', 'accepted', 'rejected')),
  position     integer NOT NULL,
  version      integer NOT NULL DEFAULT 1,
  created_at   timestamptz NOT NULL DEFAULT now(),
  updated_at   timestamptz NOT NULL DEFAULT now(),
  CHECK ((task_id IS NULL) <> (routine_id IS NULL)),
  CHECK (end_at > start_at)
);
CREATE INDEX day_plan_items_plan_idx ON app.day_plan_items (plan_id, position);
CREATE INDEX day_plan_items_task_idx ON app.day_plan_items (task_id);
CREATE INDEX day_plan_items_routine_idx ON app.day_plan_items (routine_id);
SELECT app.add_workspace_table('day_plan_items');
CREATE POLICY day_plan_items_author ON app.day_plan_items AS RESTRICTIVE
  USING (created_by = (SELECT app.current_user_id()))
  WITH CHECK (created_by = (SELECT app.current_user_id()));

RESET ROLE;
