SET ROLE minime_owner;

-- A private iCal feed a user connected. Its URL is a capability (whoever holds it reads the
-- calendar), so it is kept sealed with the key ring (place: auth.calendar_connections, url,
-- user id) and only its host is ever shown.
CREATE TABLE auth.calendar_connections (
  user_id       uuid PRIMARY KEY REFERENCES auth.users (id) ON DELETE CASCADE,
  url           bytea NOT NULL,
  host          text NOT NULL CHECK (char_length(host) BETWEEN 1 AND 255),
  -- The feed's validators, sent back when the same window is fetched again.
  etag          text CHECK (char_length(etag) <= 500),
  last_modified text CHECK (char_length(last_modified) <= 100),
  -- The first local date of the cached days and the zone they were expanded in.
  window_start  date,
  time_zone     text CHECK (char_length(time_zone) <= 64),
  connected_at  timestamptz NOT NULL,
  last_sync_at  timestamptz,
  last_error    text CHECK (char_length(last_error) <= 500),
  last_error_at timestamptz
);

-- The occurrences of the next days, replaced whole by every sync that read the feed.
CREATE TABLE auth.calendar_events (
  user_id       uuid NOT NULL REFERENCES auth.calendar_connections (user_id) ON DELETE CASCADE,
  position      integer NOT NULL CHECK (position >= 0),
  uid           text NOT NULL CHECK (char_length(uid) <= 1000),
  recurrence_id text CHECK (char_length(recurrence_id) <= 100),
  starts_at     timestamptz NOT NULL,
  ends_at       timestamptz NOT NULL CHECK (ends_at >= starts_at),
  -- As the calendar says it: RFC 3339 with the event's own offset, or a date when all-day.
  start_text    text NOT NULL CHECK (char_length(start_text) <= 40),
  end_text      text NOT NULL CHECK (char_length(end_text) <= 40),
  all_day       boolean NOT NULL,
  summary       text NOT NULL CHECK (char_length(summary) <= 1000),
  status        text NOT NULL CHECK (status IN ('confirmed', 'tentative', 'cancelled')),
  busy          boolean NOT NULL,
  PRIMARY KEY (user_id, position)
);
CREATE INDEX calendar_events_starts_idx ON auth.calendar_events (user_id, starts_at);

ALTER TABLE auth.calendar_connections ENABLE ROW LEVEL SECURITY;
ALTER TABLE auth.calendar_connections FORCE ROW LEVEL SECURITY;
CREATE POLICY calendar_connections_own ON auth.calendar_connections
  USING (user_id = (SELECT app.current_user_id()))
  WITH CHECK (user_id = (SELECT app.current_user_id()));
ALTER TABLE auth.calendar_events ENABLE ROW LEVEL SECURITY;
ALTER TABLE auth.calendar_events FORCE ROW LEVEL SECURITY;
CREATE POLICY calendar_events_own ON auth.calendar_events
  USING (user_id = (SELECT app.current_user_id()))
  WITH CHECK (user_id = (SELECT app.current_user_id()));
GRANT SELECT, INSERT, UPDATE, DELETE ON auth.calendar_connections, auth.calendar_events TO minime_app;

-- Who has a calendar: every process plants each one's next sync at start.
CREATE FUNCTION ops.calendar_users()
  RETURNS TABLE (user_id uuid) LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
  AS $$ SELECT c.user_id FROM auth.calendar_connections c $$;

-- Every sealed URL, for re-sealing under a new key, and the swap (only if unchanged).
CREATE FUNCTION ops.calendar_urls_sealed()
  RETURNS TABLE (user_id uuid, url bytea) LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
  AS $$ SELECT c.user_id, c.url FROM auth.calendar_connections c ORDER BY c.user_id $$;
CREATE FUNCTION ops.calendar_url_reseal(p_user uuid, p_old bytea, p_new bytea) RETURNS boolean
  LANGUAGE sql SECURITY DEFINER SET search_path = pg_catalog, pg_temp
  AS $$
    WITH done AS (UPDATE auth.calendar_connections SET url = p_new
                  WHERE user_id = p_user AND url = p_old RETURNING 1)
    SELECT EXISTS (SELECT 1 FROM done)
  $$;

REVOKE ALL ON FUNCTION ops.calendar_users(), ops.calendar_urls_sealed(),
  ops.calendar_url_reseal(uuid, bytea, bytea) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION ops.calendar_users(), ops.calendar_urls_sealed(),
  ops.calendar_url_reseal(uuid, bytea, bytea) TO minime_app;

RESET ROLE;
