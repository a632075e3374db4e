-- The job queue every background task uses: claimed with FOR UPDATE SKIP LOCKED under a lease
-- that lapses when a worker dies, retried with backoff, dead after its last attempt. A job with
-- a unique key is enqueued once, however many processes plant it. The server's role reaches the
-- table only through the functions below; the cleanup of expired rows is one more of them.
SET ROLE minime_owner;

CREATE TABLE ops.jobs (
  id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  kind         text NOT NULL CHECK (kind ~ '^[a-z][a-z0-9_.]{0,63}$'),
  payload      jsonb NOT NULL DEFAULT '{}',
  -- The job acts as this user: row-level security applies to it as to a request.
  user_id      uuid REFERENCES auth.users (id) ON DELETE CASCADE,
  unique_key   text UNIQUE CHECK (length(unique_key) BETWEEN 1 AND 200),
  run_at       timestamptz NOT NULL DEFAULT now(),
  attempts     integer NOT NULL DEFAULT 0,
  max_attempts integer NOT NULL DEFAULT 8 CHECK (max_attempts BETWEEN 1 AND 100),
  locked_until timestamptz,
  locked_by    text,
  last_error   text,
  done_at      timestamptz,
  dead_at      timestamptz,
  created_at   timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX jobs_due_idx ON ops.jobs (run_at) WHERE done_at IS NULL AND dead_at IS NULL;
CREATE INDEX jobs_user_idx ON ops.jobs (user_id) WHERE user_id IS NOT NULL;
REVOKE ALL ON ops.jobs FROM PUBLIC, minime_app;

-- The id of the queued job, or null when a job with that unique key exists already.
CREATE FUNCTION ops.job_enqueue(p_kind text, p_payload jsonb, p_user uuid, p_key text,
                                p_run_at timestamptz, p_max integer)
  RETURNS bigint LANGUAGE sql SECURITY DEFINER SET search_path = pg_catalog, pg_temp
  AS $$
    INSERT INTO ops.jobs (kind, payload, user_id, unique_key, run_at, max_attempts)
    VALUES (p_kind, p_payload, p_user, p_key, p_run_at, p_max)
    ON CONFLICT (unique_key) DO NOTHING
    RETURNING id
  $$;

-- Due jobs for one worker, each leased until the lease ends; a job whose worker died is due
-- again once its lease has lapsed.
CREATE FUNCTION ops.job_claim(p_limit integer, p_lease interval, p_worker text, p_at timestamptz)
  RETURNS TABLE (id bigint, kind text, payload jsonb, user_id uuid, attempts integer, max_attempts integer)
  LANGUAGE sql SECURITY DEFINER SET search_path = pg_catalog, pg_temp
  AS $$
    UPDATE ops.jobs j SET locked_until = greatest(now(), p_at) + p_lease, locked_by = p_worker,
                          attempts = j.attempts + 1
    WHERE j.id IN (SELECT q.id FROM ops.jobs q
                   WHERE q.done_at IS NULL AND q.dead_at IS NULL
                     AND q.run_at <= greatest(now(), p_at)
                     AND (q.locked_until IS NULL OR q.locked_until < greatest(now(), p_at))
                   ORDER BY q.run_at, q.id LIMIT p_limit FOR UPDATE SKIP LOCKED)
    RETURNING j.id, j.kind, j.payload, j.user_id, j.attempts, j.max_attempts
  $$;

-- outcome: 'done', 'retry' at p_next, or 'dead'. Only the worker holding the lease may settle:
-- a worker that lost its lease (it stalled past it, and another ran the job) changes nothing.
CREATE FUNCTION ops.job_settle(p_id bigint, p_worker text, p_outcome text, p_error text, p_next timestamptz)
  RETURNS boolean LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp
  AS $$
DECLARE
  n integer;
BEGIN
  CASE p_outcome
    WHEN 'done' THEN
      UPDATE ops.jobs SET done_at = now(), locked_until = NULL, last_error = NULL
      WHERE id = p_id AND locked_by = p_worker AND done_at IS NULL;
    WHEN 'retry' THEN
      UPDATE ops.jobs SET run_at = p_next, locked_until = NULL, last_error = left(p_error, 2000)
      WHERE id = p_id AND locked_by = p_worker AND done_at IS NULL;
    WHEN 'dead' THEN
      UPDATE ops.jobs SET dead_at = now(), locked_until = NULL, last_error = left(p_error, 2000)
      WHERE id = p_id AND locked_by = p_worker AND done_at IS NULL;
    ELSE
      RAISE EXCEPTION 'unknown outcome %', p_outcome USING ERRCODE = 'invalid_parameter_value';
  END CASE;
  GET DIAGNOSTICS n = ROW_COUNT;
  RETURN n = 1;
END
$$;

-- Removes what has outlived its use, as of p_at (never earlier than the database's own time
-- allows); answers each table with the rows removed. The horizons are documented in README.
CREATE FUNCTION ops.cleanup(p_at timestamptz)
  RETURNS TABLE (tbl text, removed bigint)
  LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp
  AS $$
DECLARE
  at timestamptz := greatest(now(), p_at);
  n bigint;
BEGIN
  DELETE FROM ops.rate_limits WHERE window_start < at - interval '1 day';
  GET DIAGNOSTICS n = ROW_COUNT; tbl := 'ops.rate_limits'; removed := n; RETURN NEXT;
  DELETE FROM auth.signin_failures
    WHERE updated_at < at - interval '1 day' AND (locked_until IS NULL OR locked_until < at);
  GET DIAGNOSTICS n = ROW_COUNT; tbl := 'auth.signin_failures'; removed := n; RETURN NEXT;
  DELETE FROM auth.email_tokens WHERE expires_at < at - interval '1 day';
  GET DIAGNOSTICS n = ROW_COUNT; tbl := 'auth.email_tokens'; removed := n; RETURN NEXT;
  -- A session's refresh tokens go with it (ON DELETE CASCADE).
  DELETE FROM auth.sessions
    WHERE expires_at < at - interval '7 days' OR revoked_at < at - interval '7 days';
  GET DIAGNOSTICS n = ROW_COUNT; tbl := 'auth.sessions'; removed := n; RETURN NEXT;
  DELETE FROM ops.idempotency_keys WHERE created_at < at - interval '24 hours';
  GET DIAGNOSTICS n = ROW_COUNT; tbl := 'ops.idempotency_keys'; removed := n; RETURN NEXT;
  DELETE FROM ops.outbox
    WHERE (sent_at < at - interval '30 days') OR (failed_at < at - interval '30 days');
  GET DIAGNOSTICS n = ROW_COUNT; tbl := 'ops.outbox'; removed := n; RETURN NEXT;
  DELETE FROM app.ai_previews WHERE expires_at < at - interval '1 day';
  GET DIAGNOSTICS n = ROW_COUNT; tbl := 'app.ai_previews'; removed := n; RETURN NEXT;
  DELETE FROM ops.jobs WHERE done_at < at - interval '7 days';
  GET DIAGNOSTICS n = ROW_COUNT; tbl := 'ops.jobs'; removed := n; RETURN NEXT;
END
$$;

REVOKE ALL ON FUNCTION ops.job_enqueue(text, jsonb, uuid, text, timestamptz, integer),
  ops.job_claim(integer, interval, text, timestamptz), ops.job_settle(bigint, text, text, text, timestamptz),
  ops.cleanup(timestamptz) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION ops.job_enqueue(text, jsonb, uuid, text, timestamptz, integer),
  ops.job_claim(integer, interval, text, timestamptz), ops.job_settle(bigint, text, text, text, timestamptz),
  ops.cleanup(timestamptz) TO minime_app;
RESET ROLE;
