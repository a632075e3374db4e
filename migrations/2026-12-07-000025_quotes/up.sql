SET ROLE minime_owner;

ALTER TABLE app.business_profiles
  ADD COLUMN quote_prefix text NOT NULL DEFAULT 'QU-' CHECK (char_length(quote_prefix) <= 20),
  ADD COLUMN last_quote_number bigint NOT NULL DEFAULT 0 CHECK (last_quote_number >= 0);

-- Quotes (estimates): a draft changes freely; sending numbers it, copies both parties in and
-- makes a single-use link (only its SHA-256 is kept) through which the client accepts or
-- declines by typing their name. That answer is the quote's signature record; an accepted
-- quote becomes a draft invoice.
CREATE TABLE app.quotes (
  id                        uuid NOT NULL,
  workspace_id              uuid NOT NULL REFERENCES app.workspaces (id) ON DELETE CASCADE,
  created_by                uuid NOT NULL REFERENCES auth.users (id) ON DELETE CASCADE,
  client_id                 uuid NOT NULL,
  status                    text NOT NULL DEFAULT 'draft' CHECK (status IN ('draft', 'sent', 'accepted', 'declined')),
  number                    text CHECK (char_length(number) <= 40),
  valid_until               date,
  vat_registered            boolean NOT NULL,
  lines                     jsonb NOT NULL DEFAULT '[]' CHECK (jsonb_typeof(lines) = 'array'),
  net_pence                 bigint NOT NULL DEFAULT 0,
  vat_pence                 bigint NOT NULL DEFAULT 0,
  reverse_charge_vat_pence  bigint NOT NULL DEFAULT 0,
  total_pence               bigint NOT NULL DEFAULT 0,
  by_rate                   jsonb NOT NULL DEFAULT '[]' CHECK (jsonb_typeof(by_rate) = 'array'),
  notes                     text CHECK (char_length(notes) <= 5000),
  supplier                  jsonb,
  customer                  jsonb,
  sent_at                   timestamptz,
  link_hash                 bytea CHECK (octet_length(link_hash) = 32),
  link_expires_at           timestamptz,
  answered_at               timestamptz,
  signer_name               text CHECK (char_length(signer_name) <= 200),
  -- SHA-256 of the answering request's IP address and user agent: enough to tell answers
  -- apart, not enough to track anyone.
  signer_fingerprint        bytea CHECK (octet_length(signer_fingerprint) = 32),
  invoice_id                uuid,
  version                   integer NOT NULL DEFAULT 1,
  created_at                timestamptz NOT NULL DEFAULT now(),
  updated_at                timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (workspace_id, id),
  UNIQUE (workspace_id, number),
  CHECK ((status = 'draft') = (number IS NULL)),
  CHECK (status = 'draft' OR (sent_at IS NOT NULL AND supplier IS NOT NULL AND customer IS NOT NULL)),
  CHECK ((status IN ('accepted', 'declined')) = (answered_at IS NOT NULL AND signer_name IS NOT NULL)),
  FOREIGN KEY (workspace_id, client_id) REFERENCES app.clients (workspace_id, id),
  FOREIGN KEY (workspace_id, invoice_id) REFERENCES app.invoices (workspace_id, id)
);
-- Not unique: a key must hold workspace_id (DESIGN §7), and 256 random bits do not collide.
CREATE INDEX quotes_link_idx ON app.quotes (link_hash) WHERE link_hash IS NOT NULL;
CREATE INDEX quotes_client_idx ON app.quotes (workspace_id, client_id);
CREATE INDEX quotes_invoice_idx ON app.quotes (workspace_id, invoice_id);
SELECT app.add_workspace_table('quotes');

-- The link has no signed-in user, so forced RLS hides every quote from it: these functions,
-- keyed by the link token's hash, are its only way in, to that one quote.
CREATE FUNCTION ops.quote_by_link(p_hash bytea, p_at timestamptz) RETURNS jsonb
  LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
  AS $$
    SELECT jsonb_build_object(
             'number', q.number, 'status', q.status, 'valid_until', q.valid_until,
             'vat_registered', q.vat_registered, 'lines', q.lines,
             'totals', jsonb_build_object('net_pence', q.net_pence, 'vat_pence', q.vat_pence,
                                          'reverse_charge_vat_pence', q.reverse_charge_vat_pence,
                                          'total_pence', q.total_pence, 'by_rate', q.by_rate),
             'notes', q.notes, 'supplier', q.supplier, 'customer', q.customer,
             'answered_at', q.answered_at, 'signer_name', q.signer_name)
    FROM app.quotes q
    WHERE q.link_hash = p_hash AND q.link_expires_at > greatest(now(), p_at)
  $$;

-- Records the one answer the link allows (it shows the quote, answered, until it expires); on acceptance the quote becomes a draft invoice with
-- its lines and totals. Answers the quote's new status, or NULL when the link is unknown,
-- expired or used.
CREATE FUNCTION ops.quote_answer(p_hash bytea, p_at timestamptz, p_accept boolean, p_name text,
                                 p_fingerprint bytea, p_invoice uuid) RETURNS text
  LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp
  AS $$
DECLARE
  q app.quotes;
BEGIN
  SELECT * INTO q FROM app.quotes
  WHERE link_hash = p_hash AND link_expires_at > greatest(now(), p_at) AND status = 'sent'
  FOR UPDATE;
  IF NOT FOUND THEN
    RETURN NULL;
  END IF;
  IF p_accept THEN
    INSERT INTO app.invoices (id, workspace_id, created_by, client_id, vat_registered, lines,
                              net_pence, vat_pence, reverse_charge_vat_pence, total_pence, by_rate, notes)
    VALUES (p_invoice, q.workspace_id, q.created_by, q.client_id, q.vat_registered, q.lines,
            q.net_pence, q.vat_pence, q.reverse_charge_vat_pence, q.total_pence, q.by_rate,
            'From quote ' || q.number);
  END IF;
  UPDATE app.quotes SET
    status = CASE WHEN p_accept THEN 'accepted' ELSE 'declined' END,
    answered_at = p_at, signer_name = p_name, signer_fingerprint = p_fingerprint,
    invoice_id = CASE WHEN p_accept THEN p_invoice END,
    version = version + 1, updated_at = now()
  WHERE workspace_id = q.workspace_id AND id = q.id;
  RETURN CASE WHEN p_accept THEN 'accepted' ELSE 'declined' END;
END
$$;

REVOKE ALL ON FUNCTION ops.quote_by_link(bytea, timestamptz),
  ops.quote_answer(bytea, timestamptz, boolean, text, bytea, uuid) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION ops.quote_by_link(bytea, timestamptz),
  ops.quote_answer(bytea, timestamptz, boolean, text, bytea, uuid) TO minime_app;

RESET ROLE;
