SET ROLE minime_owner;
DROP FUNCTION auth.consume_email_token(bytea, text, timestamptz),
  auth.email_token_user(bytea, text, timestamptz), auth.find_refresh_token(bytea, timestamptz);

CREATE FUNCTION auth.consume_email_token(p_hash bytea, p_purpose text)
  RETURNS TABLE (user_id uuid, password_hash text)
  LANGUAGE sql SECURITY DEFINER SET search_path = pg_catalog, pg_temp
  AS $$
    UPDATE auth.email_tokens t SET used_at = now()
    WHERE t.token_hash = p_hash AND t.purpose = p_purpose AND t.used_at IS NULL AND t.expires_at > now()
    RETURNING t.user_id, t.password_hash
  $$;

CREATE FUNCTION auth.email_token_user(p_hash bytea, p_purpose text) RETURNS uuid
  LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
  AS $$
    SELECT t.user_id FROM auth.email_tokens t
    WHERE t.token_hash = p_hash AND t.purpose = p_purpose AND t.used_at IS NULL AND t.expires_at > now()
  $$;

CREATE FUNCTION auth.find_refresh_token(p_hash bytea)
  RETURNS TABLE (session_id uuid, used boolean, user_id uuid, mode text, live boolean)
  LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp
  AS $$
BEGIN
  RETURN QUERY SELECT r.session_id, r.used_at IS NOT NULL, s.user_id, s.mode,
                      s.revoked_at IS NULL AND s.expires_at > now()
    FROM auth.refresh_tokens r JOIN auth.sessions s ON s.id = r.session_id
    WHERE r.token_hash = p_hash FOR UPDATE;
END
$$;

REVOKE ALL ON FUNCTION auth.consume_email_token(bytea, text), auth.email_token_user(bytea, text),
  auth.find_refresh_token(bytea) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION auth.consume_email_token(bytea, text), auth.email_token_user(bytea, text),
  auth.find_refresh_token(bytea) TO minime_app;
RESET ROLE;
