-- 1,000 verified users with a personal workspace, 100 tasks each and a write-scoped personal
-- access token `mm_pat_bench_<n>`; task k of user n has the id 00000000-0000-7000-8000-<n*1000+k>.
-- Run as a superuser (row-level security does not apply to it).
BEGIN;
INSERT INTO auth.users (id, email, password_hash, email_verified_at)
SELECT ('00000000-0000-7000-9000-' || lpad(n::text, 12, '0'))::uuid, 'bench' || n || '@example.com',
       :'hash', now()
FROM generate_series(1, 1000) n;
INSERT INTO app.workspaces (id, name, kind, owner_id, created_by)
SELECT ('00000000-0000-7000-a000-' || lpad(n::text, 12, '0'))::uuid, 'Personal', 'personal', u, u
FROM generate_series(1, 1000) n, LATERAL (SELECT ('00000000-0000-7000-9000-' || lpad(n::text, 12, '0'))::uuid) AS x(u);
INSERT INTO app.workspace_members (workspace_id, user_id, role, created_by)
SELECT ('00000000-0000-7000-a000-' || lpad(n::text, 12, '0'))::uuid, u, 'owner', u
FROM generate_series(1, 1000) n, LATERAL (SELECT ('00000000-0000-7000-9000-' || lpad(n::text, 12, '0'))::uuid) AS x(u);
INSERT INTO auth.personal_access_tokens (id, user_id, name, token_hash, scope, last_used_at)
SELECT ('00000000-0000-7000-b000-' || lpad(n::text, 12, '0'))::uuid, ('00000000-0000-7000-9000-' || lpad(n::text, 12, '0'))::uuid,
       'bench', sha256(convert_to('mm_pat_bench_' || n, 'UTF8')), 'write', now()
FROM generate_series(1, 1000) n;
INSERT INTO app.tasks (id, workspace_id, created_by, title, priority, created_at)
SELECT ('00000000-0000-7000-8000-' || lpad((n * 1000 + k)::text, 12, '0'))::uuid,
       ('00000000-0000-7000-a000-' || lpad(n::text, 12, '0'))::uuid,
       ('00000000-0000-7000-9000-' || lpad(n::text, 12, '0'))::uuid,
       'Task ' || k, 1 + k % 4, now() - (k || ' minutes')::interval
FROM generate_series(1, 1000) n, generate_series(1, 100) k;
COMMIT;
ANALYZE;
