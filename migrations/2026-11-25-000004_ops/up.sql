SET ROLE minime_owner;

-- Mail waiting to be delivered. The body (which may carry a single-use token) is
-- cleared once the provider accepted the message.
CREATE TABLE ops.outbox (
  id              uuid PRIMARY KEY,
  user_id         uuid REFERENCES auth.users (id) ON DELETE CASCADE,
  kind            text NOT NULL,
  to_address      text NOT NULL,
  subject         text NOT NULL,
  body_text       text,
  attempts        integer NOT NULL DEFAULT 0,
  next_attempt_at timestamptz NOT NULL DEFAULT now(),
  locked_until    timestamptz,
  sent_at         timestamptz,
  failed_at       timestamptz,
  last_error      text,
  created_at      timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX outbox_pending_idx ON ops.outbox (next_attempt_at) WHERE sent_at IS NULL AND failed_at IS NULL;
CREATE INDEX outbox_user_idx ON ops.outbox (user_id);

-- Fixed-window counters shared by every instance.
CREATE TABLE ops.rate_limits (
  key          text PRIMARY KEY,
  window_start timestamptz NOT NULL,
  hits         integer NOT NULL
);
CREATE INDEX rate_limits_window_idx ON ops.rate_limits (window_start);

GRANT SELECT, INSERT, UPDATE, DELETE ON ops.outbox, ops.rate_limits TO minime_app;

RESET ROLE;
