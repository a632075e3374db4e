DROP TABLE ops.rate_limits;
DROP TABLE ops.outbox;
