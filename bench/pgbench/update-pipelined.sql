-- Pipelined twin of update.sql: the same statements sent in one round trip (\startpipeline needs
-- -M extended or -M prepared), the limit of what one connection can do with them.
\set n random(1, 1000)
\set k random(1, 100)
\set p random(1, 4)
\startpipeline
BEGIN;
SELECT id, user_id, scope, last_used_at, set_config('app.user_id', text(user_id), true) FROM auth.personal_access_tokens WHERE token_hash = sha256(convert_to('mm_pat_bench_' || :n, 'UTF8')) AND revoked_at IS NULL AND (expires_at IS NULL OR expires_at > now()) LIMIT 1;
INSERT INTO ops.rate_limits AS r (key, window_start, hits) VALUES ('writes-user-' || :n::text, date_trunc('minute', now()), 1) ON CONFLICT (key) DO UPDATE SET hits = CASE WHEN r.window_start = excluded.window_start THEN r.hits + 1 ELSE 1 END, window_start = excluded.window_start RETURNING hits, window_start;
SELECT id, workspace_id, created_by, title, notes, status, priority, energy, estimate_minutes, due_date, due_time, due_time_zone, scheduled_date, parent_id, project_id, area_id, goal_id, position, labels, recurrence, recurrence_start, reset_steps, completed_at, version, created_at, updated_at FROM app.tasks WHERE id = ('00000000-0000-7000-8000-' || lpad((:n * 1000 + :k)::text, 12, '0'))::uuid LIMIT 1;
SELECT completed_at, recurrence, due_date, recurrence_start FROM app.tasks WHERE id = ('00000000-0000-7000-8000-' || lpad((:n * 1000 + :k)::text, 12, '0'))::uuid LIMIT 1;
UPDATE app.tasks SET priority = :p, version = version + 1, updated_at = now() WHERE id = ('00000000-0000-7000-8000-' || lpad((:n * 1000 + :k)::text, 12, '0'))::uuid RETURNING id, workspace_id, created_by, title, notes, status, priority, energy, estimate_minutes, due_date, due_time, due_time_zone, scheduled_date, parent_id, project_id, area_id, goal_id, position, labels, recurrence, recurrence_start, reset_steps, completed_at, version, created_at, updated_at;
COMMIT;
\endpipeline
