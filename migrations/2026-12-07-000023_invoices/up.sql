SET ROLE minime_owner;

-- VAT numbers are kept in their canonical form, GB and the digits (branch and GD/HA forms
-- included), now that their check digits are checked.
ALTER TABLE app.business_profiles DROP CONSTRAINT business_profiles_vrn_check;
UPDATE app.business_profiles SET vrn = 'GB' || vrn WHERE vrn IS NOT NULL;
UPDATE app.clients SET vat_number = 'GB' || vat_number WHERE vat_number ~ '^[0-9]{9}$';
ALTER TABLE app.business_profiles
  ADD CONSTRAINT business_profiles_vrn_check CHECK (vrn ~ '^GB([0-9]{9}|[0-9]{12}|GD[0-4][0-9]{2}|HA[5-9][0-9]{2})$'),
  ADD COLUMN credit_note_prefix text NOT NULL DEFAULT 'CN-' CHECK (char_length(credit_note_prefix) <= 20),
  -- Numbering: the last number issued per kind. The issuing transaction takes the next one by
  -- an UPDATE of the profile row, whose lock makes concurrent issues wait their turn; a
  -- rolled-back issue gives its number back, so no number is shared or skipped.
  ADD COLUMN last_invoice_number bigint NOT NULL DEFAULT 0 CHECK (last_invoice_number >= 0),
  ADD COLUMN last_credit_note_number bigint NOT NULL DEFAULT 0 CHECK (last_credit_note_number >= 0);

-- Lines are kept as the document holds them (description, quantity and unit price as exact
-- decimal strings, rate, VAT-inclusive flag) with each line's net and VAT in pence, as
-- computed by the one totals function; the totals columns are its sums. Supplier and customer
-- are copied into the row when the invoice is issued, so a later change to the profile or the
-- client never changes an issued invoice.
CREATE TABLE app.invoices (
  id                        uuid NOT NULL,
  workspace_id              uuid NOT NULL REFERENCES app.workspaces (id) ON DELETE CASCADE,
  created_by                uuid NOT NULL REFERENCES auth.users (id) ON DELETE CASCADE,
  client_id                 uuid NOT NULL,
  job_id                    uuid,
  status                    text NOT NULL DEFAULT 'draft' CHECK (status IN ('draft', 'issued', 'partly_paid', 'paid', 'void')),
  form                      text NOT NULL DEFAULT 'full' CHECK (form IN ('full', 'simplified', 'modified')),
  number                    text CHECK (char_length(number) <= 40),
  sequence_number           bigint CHECK (sequence_number > 0),
  supply_date               date,
  invoice_date              date,
  tax_point                 date,
  due_date                  date,
  payment_terms_days        integer CHECK (payment_terms_days BETWEEN 0 AND 365),
  vat_registered            boolean NOT NULL,
  lines                     jsonb NOT NULL DEFAULT '[]' CHECK (jsonb_typeof(lines) = 'array'),
  net_pence                 bigint NOT NULL DEFAULT 0,
  vat_pence                 bigint NOT NULL DEFAULT 0,
  reverse_charge_vat_pence  bigint NOT NULL DEFAULT 0,
  total_pence               bigint NOT NULL DEFAULT 0 CHECK (total_pence >= 0),
  by_rate                   jsonb NOT NULL DEFAULT '[]' CHECK (jsonb_typeof(by_rate) = 'array'),
  paid_pence                bigint NOT NULL DEFAULT 0 CHECK (paid_pence >= 0),
  credited_pence            bigint NOT NULL DEFAULT 0 CHECK (credited_pence >= 0),
  notes                     text CHECK (char_length(notes) <= 5000),
  supplier                  jsonb,
  customer                  jsonb,
  issued_at                 timestamptz,
  voided_at                 timestamptz,
  void_reason               text CHECK (char_length(void_reason) <= 500),
  version                   integer NOT NULL DEFAULT 1,
  created_at                timestamptz NOT NULL DEFAULT now(),
  updated_at                timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (workspace_id, id),
  UNIQUE (workspace_id, sequence_number),
  CHECK ((status = 'draft') = (sequence_number IS NULL)),
  CHECK ((number IS NULL) = (sequence_number IS NULL)),
  CHECK (status = 'draft' OR (invoice_date IS NOT NULL AND tax_point IS NOT NULL AND due_date IS NOT NULL
                              AND supplier IS NOT NULL AND customer IS NOT NULL AND issued_at IS NOT NULL)),
  CHECK ((status = 'void') = (voided_at IS NOT NULL)),
  CHECK (credited_pence <= total_pence),
  -- A client or job with invoices cannot be deleted: archive it instead.
  FOREIGN KEY (workspace_id, client_id) REFERENCES app.clients (workspace_id, id),
  FOREIGN KEY (workspace_id, job_id) REFERENCES app.business_jobs (workspace_id, id)
);
CREATE INDEX invoices_client_idx ON app.invoices (workspace_id, client_id);
CREATE INDEX invoices_job_idx ON app.invoices (workspace_id, job_id);
CREATE INDEX invoices_due_idx ON app.invoices (workspace_id, due_date) WHERE status IN ('issued', 'partly_paid');
SELECT app.add_workspace_table('invoices');

-- Credit notes are issued whole when created (their number comes from their own sequence) and
-- never change; each credits one issued invoice, at most what is left to credit on it.
CREATE TABLE app.credit_notes (
  id                        uuid NOT NULL,
  workspace_id              uuid NOT NULL REFERENCES app.workspaces (id) ON DELETE CASCADE,
  created_by                uuid NOT NULL REFERENCES auth.users (id) ON DELETE CASCADE,
  invoice_id                uuid NOT NULL,
  number                    text NOT NULL CHECK (char_length(number) <= 40),
  sequence_number           bigint NOT NULL CHECK (sequence_number > 0),
  credit_date               date NOT NULL,
  reason                    text CHECK (char_length(reason) <= 1000),
  vat_registered            boolean NOT NULL,
  lines                     jsonb NOT NULL CHECK (jsonb_typeof(lines) = 'array'),
  net_pence                 bigint NOT NULL,
  vat_pence                 bigint NOT NULL,
  reverse_charge_vat_pence  bigint NOT NULL,
  total_pence               bigint NOT NULL CHECK (total_pence > 0),
  by_rate                   jsonb NOT NULL CHECK (jsonb_typeof(by_rate) = 'array'),
  supplier                  jsonb NOT NULL,
  customer                  jsonb NOT NULL,
  version                   integer NOT NULL DEFAULT 1,
  created_at                timestamptz NOT NULL DEFAULT now(),
  updated_at                timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (workspace_id, id),
  UNIQUE (workspace_id, sequence_number),
  FOREIGN KEY (workspace_id, invoice_id) REFERENCES app.invoices (workspace_id, id)
);
CREATE INDEX credit_notes_invoice_idx ON app.credit_notes (workspace_id, invoice_id);
SELECT app.add_workspace_table('credit_notes');

CREATE TABLE app.invoice_payments (
  id            uuid NOT NULL,
  workspace_id  uuid NOT NULL REFERENCES app.workspaces (id) ON DELETE CASCADE,
  created_by    uuid NOT NULL REFERENCES auth.users (id) ON DELETE CASCADE,
  invoice_id    uuid NOT NULL,
  paid_on       date NOT NULL,
  amount_pence  bigint NOT NULL CHECK (amount_pence > 0),
  method        text NOT NULL CHECK (method IN ('bank_transfer', 'card', 'cash', 'cheque', 'stripe', 'other')),
  reference     text CHECK (char_length(reference) <= 200),
  -- The Stripe event that recorded it, so a replayed event records nothing more.
  stripe_event_id text CHECK (char_length(stripe_event_id) <= 255),
  version       integer NOT NULL DEFAULT 1,
  created_at    timestamptz NOT NULL DEFAULT now(),
  updated_at    timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (workspace_id, id),
  UNIQUE (workspace_id, stripe_event_id),
  FOREIGN KEY (workspace_id, invoice_id) REFERENCES app.invoices (workspace_id, id) ON DELETE CASCADE
);
CREATE INDEX invoice_payments_invoice_idx ON app.invoice_payments (workspace_id, invoice_id);
SELECT app.add_workspace_table('invoice_payments');

-- Every PDF the server generated for an issued document, kept as generated.
CREATE TABLE app.business_documents (
  id            uuid NOT NULL,
  workspace_id  uuid NOT NULL REFERENCES app.workspaces (id) ON DELETE CASCADE,
  created_by    uuid NOT NULL REFERENCES auth.users (id) ON DELETE CASCADE,
  kind          text NOT NULL CHECK (kind IN ('invoice', 'credit_note', 'quote')),
  invoice_id    uuid,
  credit_note_id uuid,
  title         text NOT NULL CHECK (char_length(title) <= 200),
  file_name     text NOT NULL CHECK (file_name ~ '^[A-Za-z0-9._-]{1,100}$'),
  content_type  text NOT NULL DEFAULT 'application/pdf',
  sha256        bytea NOT NULL CHECK (octet_length(sha256) = 32),
  size_bytes    integer NOT NULL CHECK (size_bytes > 0),
  content       bytea NOT NULL,
  version       integer NOT NULL DEFAULT 1,
  created_at    timestamptz NOT NULL DEFAULT now(),
  updated_at    timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (workspace_id, id),
  CHECK (num_nonnulls(invoice_id, credit_note_id) <= 1),
  FOREIGN KEY (workspace_id, invoice_id) REFERENCES app.invoices (workspace_id, id) ON DELETE CASCADE,
  FOREIGN KEY (workspace_id, credit_note_id) REFERENCES app.credit_notes (workspace_id, id) ON DELETE CASCADE
);
CREATE INDEX business_documents_invoice_idx ON app.business_documents (workspace_id, invoice_id);
CREATE INDEX business_documents_credit_note_idx ON app.business_documents (workspace_id, credit_note_id);
SELECT app.add_workspace_table('business_documents');

-- Issued documents are kept as issued: the server role may not change them at all.
REVOKE UPDATE, DELETE ON app.credit_notes, app.business_documents FROM minime_app;

RESET ROLE;
