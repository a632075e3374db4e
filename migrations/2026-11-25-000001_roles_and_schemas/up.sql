-- Roles are cluster-wide, so they may already exist when a second database is migrated.
-- minime_owner owns every object and runs migrations; it has BYPASSRLS so that its
-- SECURITY DEFINER helpers can read membership without recursing into policies.
-- minime_app is the server's login: no superuser, no BYPASSRLS, DML grants only.
DO $$
BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'minime_owner') THEN
    CREATE ROLE minime_owner NOLOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE BYPASSRLS;
  END IF;
  IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'minime_app') THEN
    CREATE ROLE minime_app LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOBYPASSRLS NOINHERIT;
  END IF;
END
$$;
ALTER ROLE minime_app NOSUPERUSER NOBYPASSRLS NOCREATEDB NOCREATEROLE;

CREATE SCHEMA auth AUTHORIZATION minime_owner;
CREATE SCHEMA app AUTHORIZATION minime_owner;
CREATE SCHEMA ops AUTHORIZATION minime_owner;
GRANT USAGE ON SCHEMA auth, app, ops TO minime_app;
-- /readyz compares applied migrations with the ones built into the server.
GRANT SELECT ON public.__diesel_schema_migrations TO minime_app;
