-- One verified user with 100,000 entities (80,000 tasks, 20,000 captures) in a personal workspace.
-- Run as a superuser (row-level security does not apply to it).
BEGIN;
INSERT INTO auth.users (id, email, password_hash, email_verified_at)
VALUES ('00000000-0000-7000-9000-000000000001', 'export@example.com', :'hash', now());
INSERT INTO app.workspaces (id, name, kind, owner_id, created_by)
VALUES ('00000000-0000-7000-a000-000000000001', 'Personal', 'personal',
        '00000000-0000-7000-9000-000000000001', '00000000-0000-7000-9000-000000000001');
INSERT INTO app.workspace_members (workspace_id, user_id, role, created_by)
VALUES ('00000000-0000-7000-a000-000000000001', '00000000-0000-7000-9000-000000000001', 'owner',
        '00000000-0000-7000-9000-000000000001');
INSERT INTO app.tasks (id, workspace_id, created_by, title, notes, priority, estimate_minutes, labels, created_at)
SELECT gen_random_uuid(), '00000000-0000-7000-a000-000000000001', '00000000-0000-7000-9000-000000000001',
       'Task number ' || k, 'Notes of task ' || k || ', a sentence or two long as notes often are.',
       1 + k % 4, 15 + k % 8 * 15, ARRAY['home', 'errands'], now() - (k || ' seconds')::interval
FROM generate_series(1, 80000) k;
INSERT INTO app.capture_items (id, workspace_id, created_by, text, created_at)
SELECT gen_random_uuid(), '00000000-0000-7000-a000-000000000001', '00000000-0000-7000-9000-000000000001',
       'Captured thought ' || k, now() - (k || ' seconds')::interval
FROM generate_series(1, 20000) k;
COMMIT;
ANALYZE;
