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
  status         text NOT NULL DEFAULT 'unmatched' CHECK (status IN ('unmatched', 'matched', 'expense', 'ignored')),
  payment_id     uuid,
  expense_id     uuid,
  version        integer NOT NULL DEFAULT 1,
  created_at     timestamptz NOT NULL DEFAULT now(),
  updated_at     timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (workspace_id, id),
  UNIQUE (workspace_id, account, dedup_key),
  UNIQUE (workspace_id, payment_id),
  UNIQUE (workspace_id, expense_id),
  FOREIGN KEY (workspace_id, statement_id) REFERENCES app.bank_statements (workspace_id, id) ON DELETE CASCADE,
  -- A line names what it became, and only that.
  CHECK ((status = 'matched') = (payment_id IS NOT NULL)),
  CHECK ((status = 'expense') = (expense_id IS NOT NULL)),
  -- Deleting the payment or expense a line became leaves the line open to be matched again.
  FOREIGN KEY (workspace_id, payment_id) REFERENCES app.invoice_payments (workspace_id, id)
    ON DELETE SET NULL (payment_id),
  FOREIGN KEY (workspace_id, expense_id) REFERENCES app.expenses (workspace_id, id)
    ON DELETE SET NULL (expense_id)
);
CREATE INDEX bank_transactions_statement_idx ON app.bank_transactions (workspace_id, statement_id);
CREATE INDEX bank_transactions_open_idx ON app.bank_transactions (workspace_id, status, posted_on);
SELECT app.add_workspace_table('bank_transactions');

-- The foreign keys above clear the link; the line's status follows.
CREATE FUNCTION app.bank_transaction_unlinked() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF (NEW.status = 'matched' AND NEW.payment_id IS NULL)
     OR (NEW.status = 'expense' AND NEW.expense_id IS NULL) THEN
    NEW.status := 'unmatched';
    NEW.version := OLD.version + 1;
    NEW.updated_at := now();
  END IF;
  RETURN NEW;
END
$$;
CREATE TRIGGER bank_transactions_unlinked BEFORE UPDATE OF payment_id, expense_id ON app.bank_transactions
  FOR EACH ROW EXECUTE FUNCTION app.bank_transaction_unlinked();

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
