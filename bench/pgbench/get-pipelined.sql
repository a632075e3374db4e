-- Pipelined twin of get.sql: the same statements sent in one round trip (\startpipeline needs
-- -M extended or -M prepared), the limit of what one connection can do with them.
\set n random(1, 1000)
\set k random(1, 100)
\startpipeline
BEGIN;
SELECT id, user_id, scope, last_used_at, set_config('app.user_id', text(user_id), true) FROM auth.personal_access_tokens WHERE token_hash = sha256(convert_to('mm_pat_bench_' || :n, 'UTF8')) AND revoked_at IS NULL AND (expires_at IS NULL OR expires_at > now()) LIMIT 1;
SELECT id, workspace_id, created_by, title, notes, status, priority, energy, estimate_minutes, due_date, due_time, due_time_zone, scheduled_date, parent_id, project_id, area_id, goal_id, position, labels, recurrence, recurrence_start, reset_steps, completed_at, version, created_at, updated_at FROM app.tasks WHERE id = ('00000000-0000-7000-8000-' || lpad((:n * 1000 + :k)::text, 12, '0'))::uuid LIMIT 1;
COMMIT;
\endpipeline
