SET ROLE minime_owner;
DROP FUNCTION ops.job_enqueue(text, jsonb, uuid, text, timestamptz, integer),
  ops.job_claim(integer, interval, text, timestamptz), ops.job_settle(bigint, text, text, text, timestamptz),
  ops.cleanup(timestamptz);
DROP TABLE ops.jobs;
RESET ROLE;
