SET ROLE minime_owner;

-- A business's own Stripe account: its restricted API key and its webhook endpoint's signing
-- secrets, sealed with the key ring (place: app.stripe_accounts, <column>, workspace id). The
-- previous signing secret keeps working for 24 hours after a new one is pasted, as Stripe
-- signs with both while a secret is rolled.
CREATE TABLE app.stripe_accounts (
  id                        uuid NOT NULL,
  workspace_id              uuid NOT NULL REFERENCES app.workspaces (id) ON DELETE CASCADE,
  created_by                uuid NOT NULL REFERENCES auth.users (id) ON DELETE CASCADE,
  api_key                   bytea NOT NULL,
  api_key_hint              text NOT NULL CHECK (char_length(api_key_hint) <= 20),
  -- The last path segment of the webhook URL: unguessable, so a forged delivery cannot even
  -- reach the signature check of another business.
  endpoint_id               uuid NOT NULL,
  webhook_secret            bytea NOT NULL,
  previous_webhook_secret   bytea,
  previous_valid_until      timestamptz,
  version                   integer NOT NULL DEFAULT 1,
  created_at                timestamptz NOT NULL DEFAULT now(),
  updated_at                timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (workspace_id, id),
  UNIQUE (workspace_id),
  UNIQUE (workspace_id, endpoint_id),
  CHECK ((previous_webhook_secret IS NULL) = (previous_valid_until IS NULL))
);
SELECT app.add_workspace_table('stripe_accounts');

-- Every delivery handled, by Stripe's event id: Stripe delivers at least once.
CREATE TABLE app.stripe_events (
  id            uuid NOT NULL,
  workspace_id  uuid NOT NULL REFERENCES app.workspaces (id) ON DELETE CASCADE,
  created_by    uuid NOT NULL REFERENCES auth.users (id) ON DELETE CASCADE,
  event_id      text NOT NULL CHECK (char_length(event_id) <= 255),
  event_type    text NOT NULL CHECK (char_length(event_type) <= 100),
  outcome       text NOT NULL CHECK (char_length(outcome) <= 100),
  version       integer NOT NULL DEFAULT 1,
  created_at    timestamptz NOT NULL DEFAULT now(),
  updated_at    timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (workspace_id, id),
  UNIQUE (workspace_id, event_id)
);
SELECT app.add_workspace_table('stripe_events');

-- The webhook has no signed-in user, so forced RLS hides everything from it. These two
-- functions are its only way in, each scoped to the one workspace and endpoint in the URL.
CREATE FUNCTION ops.stripe_webhook_secrets(p_workspace uuid, p_endpoint uuid, p_at timestamptz)
  RETURNS TABLE (secret bytea, previous bytea)
  LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
  AS $$
    SELECT a.webhook_secret,
           CASE WHEN a.previous_valid_until > greatest(now(), p_at) THEN a.previous_webhook_secret END
    FROM app.stripe_accounts a
    WHERE a.workspace_id = p_workspace AND a.endpoint_id = p_endpoint
  $$;

-- Records one verified event once: 'duplicate' when its id was seen, 'recorded' when it paid
-- an open invoice of that workspace, otherwise why nothing was recorded.
CREATE FUNCTION ops.stripe_record_event(
    p_workspace uuid, p_endpoint uuid, p_event text, p_type text,
    p_invoice uuid, p_amount bigint, p_paid_on date, p_reference text,
    p_payment_id uuid, p_row_id uuid)
  RETURNS text
  LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp
  AS $$
DECLARE
  acct app.stripe_accounts;
  inv app.invoices;
  outcome text;
  paid bigint;
  balance bigint;
BEGIN
  SELECT * INTO acct FROM app.stripe_accounts a
  WHERE a.workspace_id = p_workspace AND a.endpoint_id = p_endpoint;
  IF NOT FOUND THEN
    RETURN 'unknown_endpoint';
  END IF;
  IF EXISTS (SELECT 1 FROM app.stripe_events e WHERE e.workspace_id = p_workspace AND e.event_id = p_event) THEN
    RETURN 'duplicate';
  END IF;
  IF p_invoice IS NULL THEN
    outcome := 'ignored';
  ELSE
    SELECT * INTO inv FROM app.invoices i
    WHERE i.workspace_id = p_workspace AND i.id = p_invoice FOR UPDATE;
    IF NOT FOUND THEN
      outcome := 'unknown_invoice';
    ELSIF inv.status NOT IN ('issued', 'partly_paid', 'paid') THEN
      outcome := 'invoice_not_payable';
    ELSE
      -- Stripe holds the money either way: it is recorded even beyond the balance (a refund is
      -- then due, shown as a negative balance).
      INSERT INTO app.invoice_payments (id, workspace_id, created_by, invoice_id, paid_on, amount_pence,
                                        method, reference, stripe_event_id)
      VALUES (p_payment_id, p_workspace, inv.created_by, inv.id, p_paid_on, p_amount,
              'stripe', left(p_reference, 200), p_event);
      paid := inv.paid_pence + p_amount;
      balance := inv.total_pence - paid - inv.credited_pence;
      UPDATE app.invoices SET paid_pence = paid,
        status = CASE WHEN balance <= 0 THEN 'paid' ELSE 'partly_paid' END,
        version = version + 1, updated_at = now()
      WHERE workspace_id = p_workspace AND id = inv.id;
      outcome := 'recorded';
    END IF;
  END IF;
  INSERT INTO app.stripe_events (id, workspace_id, created_by, event_id, event_type, outcome)
  VALUES (p_row_id, p_workspace, acct.created_by, p_event, left(p_type, 100), outcome);
  RETURN outcome;
END
$$;

REVOKE ALL ON FUNCTION ops.stripe_webhook_secrets(uuid, uuid, timestamptz),
  ops.stripe_record_event(uuid, uuid, text, text, uuid, bigint, date, text, uuid, uuid) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION ops.stripe_webhook_secrets(uuid, uuid, timestamptz),
  ops.stripe_record_event(uuid, uuid, text, text, uuid, bigint, date, text, uuid, uuid) TO minime_app;

-- Every sealed Stripe secret, for re-sealing under a new key, and the swap (only if unchanged).
CREATE FUNCTION ops.stripe_secrets_sealed()
  RETURNS TABLE (workspace_id uuid, api_key bytea, webhook_secret bytea, previous_webhook_secret bytea)
  LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
  AS $$ SELECT a.workspace_id, a.api_key, a.webhook_secret, a.previous_webhook_secret
        FROM app.stripe_accounts a ORDER BY a.workspace_id $$;
CREATE FUNCTION ops.stripe_secrets_reseal(p_workspace uuid, p_old bytea[], p_new bytea[]) RETURNS boolean
  LANGUAGE sql SECURITY DEFINER SET search_path = pg_catalog, pg_temp
  AS $$
    WITH done AS (UPDATE app.stripe_accounts SET api_key = p_new[1], webhook_secret = p_new[2],
                         previous_webhook_secret = p_new[3]
                  WHERE workspace_id = p_workspace AND api_key = p_old[1] AND webhook_secret = p_old[2]
                    AND previous_webhook_secret IS NOT DISTINCT FROM p_old[3] RETURNING 1)
    SELECT EXISTS (SELECT 1 FROM done)
  $$;
REVOKE ALL ON FUNCTION ops.stripe_secrets_sealed(), ops.stripe_secrets_reseal(uuid, bytea[], bytea[]) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION ops.stripe_secrets_sealed(), ops.stripe_secrets_reseal(uuid, bytea[], bytea[]) TO minime_app;

RESET ROLE;
