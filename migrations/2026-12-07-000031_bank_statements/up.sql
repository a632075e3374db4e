SET ROLE minime_owner;

-- A CSV layout saved under a name (a bank the presets do not know, or a changed export).
CREATE TABLE app.bank_csv_mappings (
  id            uuid NOT NULL,
  workspace_id  uuid NOT NULL REFERENCES app.workspaces (id) ON DELETE CASCADE,
  created_by    uuid NOT NULL REFERENCES auth.users (id) ON DELETE CASCADE,
  name          text NOT NULL CHECK (name ~ '^[a-z0-9][a-z0-9_-]{0,49}$'),
  mapping       jsonb NOT NULL CHECK (jsonb_typeof(mapping) = 'object'),
  version       integer NOT NULL DEFAULT 1,
  created_at    timestamptz NOT NULL DEFAULT now(),
  updated_at    timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (workspace_id, id),
  UNIQUE (workspace_id, name)
);
SELECT app.add_workspace_table('bank_csv_mappings');

-- One imported statement file; its original is kept in the file store.
CREATE TABLE app.bank_statements (
  id                     uuid NOT NULL,
  workspace_id           uuid NOT NULL REFERENCES app.workspaces (id) ON DELETE CASCADE,
  created_by             uuid NOT NULL REFERENCES auth.users (id) ON DELETE CASCADE,
  account                text NOT NULL CHECK (account ~ '^[a-z0-9][a-z0-9_-]{0,49}$'),
  format                 text NOT NULL CHECK (format IN ('csv', 'ofx', 'camt053')),
  layout                 text CHECK (char_length(layout) <= 50),
  file_id                uuid,
  lines_read             integer NOT NULL CHECK (lines_read >= 0),
  lines_new              integer NOT NULL CHECK (lines_new >= 0),
  closing_balance_pence  bigint,
  version                integer NOT NULL DEFAULT 1,
  created_at             timestamptz NOT NULL DEFAULT now(),
  updated_at             timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (workspace_id, id),
  UNIQUE (workspace_id, file_id),
  FOREIGN KEY (workspace_id, file_id) REFERENCES app.files (workspace_id, id)
);
SELECT app.add_workspace_table('bank_statements');

-- Each booked line, once per account however often it is imported (`dedup_key`: the bank's
-- own id, or a digest of date, amount, description and balance). A matched credit names the
-- payment it was recorded as; a debit the expense it became.
CREATE TABLE app.bank_transactions (
  id             uuid NOT NULL,
  workspace_id   uuid NOT NULL REFERENCES app.workspaces (id) ON DELETE CASCADE,
  created_by     uuid NOT NULL REFERENCES auth.users (id) ON DELETE CASCADE,
  statement_id   uuid NOT NULL,
  account        text NOT NULL,
  posted_on      date NOT NULL,
  amount_pence   bigint NOT NULL CHECK (amount_pence <> 0),
  description    text NOT NULL CHECK (char_length(description) <= 500),
  reference      text CHECK (char_length(reference) <= 500),
  counterparty   text CHECK (char_length(counterparty) <= 500),
  balance_pence  bigint,
  fitid          text CHECK (char_length(fitid) <= 255),
  dedup_key      text NOT NULL CHECK (char_length(dedup_key) <= 300),
  payment_id     uuid,
  expense_id     uuid,
  -- Follows the links, so that deleting the payment or expense a line became (which clears
  -- the link) leaves the line open to be matched again.
  status         text NOT NULL GENERATED ALWAYS AS (
                   CASE WHEN payment_id IS NOT NULL THEN 'matched'
                        WHEN expense_id IS NOT NULL THEN 'expense'
                        ELSE 'unmatched' END) STORED,
  version        integer NOT NULL DEFAULT 1,
  created_at     timestamptz NOT NULL DEFAULT now(),
  updated_at     timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (workspace_id, id),
  UNIQUE (workspace_id, account, dedup_key),
  UNIQUE (workspace_id, payment_id),
  UNIQUE (workspace_id, expense_id),
  FOREIGN KEY (workspace_id, statement_id) REFERENCES app.bank_statements (workspace_id, id) ON DELETE CASCADE,
  -- A line became one thing at most.
  CHECK (payment_id IS NULL OR expense_id IS NULL),
  FOREIGN KEY (workspace_id, payment_id) REFERENCES app.invoice_payments (workspace_id, id),
  FOREIGN KEY (workspace_id, expense_id) REFERENCES app.expenses (workspace_id, id)
);
CREATE INDEX bank_transactions_statement_idx ON app.bank_transactions (workspace_id, statement_id);
CREATE INDEX bank_transactions_open_idx ON app.bank_transactions (workspace_id, status, posted_on);
SELECT app.add_workspace_table('bank_transactions');

-- A statement's original goes with it.
CREATE FUNCTION app.bank_statement_removed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF OLD.file_id IS NOT NULL THEN
    DELETE FROM app.files WHERE workspace_id = OLD.workspace_id AND id = OLD.file_id;
  END IF;
  RETURN OLD;
END
$$;
CREATE TRIGGER bank_statements_removed AFTER DELETE ON app.bank_statements
  FOR EACH ROW EXECUTE FUNCTION app.bank_statement_removed();

RESET ROLE;
