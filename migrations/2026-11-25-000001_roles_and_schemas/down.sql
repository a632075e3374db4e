REVOKE SELECT ON public.__diesel_schema_migrations FROM minime_app;
DROP SCHEMA ops;
DROP SCHEMA app;
DROP SCHEMA auth;
-- Other databases of the cluster may still use the roles; keep them then.
DO $$
BEGIN
  BEGIN
    DROP ROLE IF EXISTS minime_app;
    DROP ROLE IF EXISTS minime_owner;
  EXCEPTION WHEN dependent_objects_still_exist THEN
    RAISE NOTICE 'minime roles are still used by another database; kept';
  END;
END
$$;
