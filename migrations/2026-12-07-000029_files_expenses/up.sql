SET ROLE minime_owner;

-- Files kept in the file store (a local folder or an S3-compatible bucket): receipts and the
-- originals of imported bank statements. The row is the file's only way in: the object is named
-- by `store_key`, a random id, never by anything a user typed, and is read back only through
-- the API, as row-level security allows.
CREATE TABLE app.files (
  id            uuid NOT NULL,
  workspace_id  uuid NOT NULL REFERENCES app.workspaces (id) ON DELETE CASCADE,
  created_by    uuid NOT NULL REFERENCES auth.users (id) ON DELETE CASCADE,
  store_key     text NOT NULL CHECK (store_key ~ '^[0-9a-f]{32}$'),
  purpose       text NOT NULL CHECK (purpose IN ('receipt', 'bank_statement', 'document')),
  name          text NOT NULL CHECK (char_length(name) BETWEEN 1 AND 200),
  content_type  text NOT NULL CHECK (content_type IN ('application/pdf', 'image/png', 'image/jpeg',
                                                      'image/webp', 'image/heic', 'text/csv',
                                                      'application/x-ofx', 'application/xml')),
  sha256        bytea NOT NULL CHECK (octet_length(sha256) = 32),
  size_bytes    bigint NOT NULL CHECK (size_bytes > 0),
  version       integer NOT NULL DEFAULT 1,
  created_at    timestamptz NOT NULL DEFAULT now(),
  updated_at    timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (workspace_id, id),
  UNIQUE (workspace_id, store_key)
);
SELECT app.add_workspace_table('files');

-- However a file's row goes (deleted by hand, with its expense, or with the account), the
-- store is told to forget the object: one job per object, queued in the deleting transaction,
-- so a rolled-back delete removes nothing.
CREATE FUNCTION app.file_removed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM ops.job_enqueue('files.remove', jsonb_build_object('store_key', OLD.store_key), NULL,
                          'files.remove:' || OLD.store_key, now(), 20);
  RETURN OLD;
END
$$;
CREATE TRIGGER files_removed AFTER DELETE ON app.files
  FOR EACH ROW EXECUTE FUNCTION app.file_removed();

-- A sole trader's business expenses, in the categories of HMRC's self-employment return
-- (SA103F boxes 17–30, and MTD for Income Tax's list, which adds payments to subcontractors).
CREATE TABLE app.expenses (
  id                 uuid NOT NULL,
  workspace_id       uuid NOT NULL REFERENCES app.workspaces (id) ON DELETE CASCADE,
  created_by         uuid NOT NULL REFERENCES auth.users (id) ON DELETE CASCADE,
  spent_on           date NOT NULL,
  -- When it was paid (cash accounting counts it then); none while unpaid.
  paid_on            date,
  supplier           text NOT NULL CHECK (char_length(supplier) BETWEEN 1 AND 200),
  description        text CHECK (char_length(description) <= 1000),
  category           text NOT NULL CHECK (category IN ('cost_of_goods', 'subcontractors', 'staff',
                       'travel', 'premises', 'repairs', 'admin', 'advertising', 'entertainment',
                       'interest', 'finance_charges', 'bad_debts', 'professional_fees',
                       'depreciation', 'other')),
  net_pence          bigint NOT NULL CHECK (net_pence BETWEEN 0 AND 100000000000),
  vat_pence          bigint NOT NULL DEFAULT 0 CHECK (vat_pence BETWEEN 0 AND 100000000000),
  vat_reclaimable    boolean NOT NULL DEFAULT false,
  payment_method     text NOT NULL DEFAULT 'card' CHECK (payment_method IN ('bank_transfer', 'card',
                       'cash', 'cheque', 'direct_debit', 'other')),
  -- For the Flat Rate Scheme: a capital item (box 4 when £2,000 or more incl. VAT), and goods
  -- that count in the limited cost trader test.
  capital_item       boolean NOT NULL DEFAULT false,
  relevant_goods     boolean NOT NULL DEFAULT false,
  -- Goods acquired from the EU into Northern Ireland (VAT return boxes 2 and 9).
  ni_eu_acquisition  boolean NOT NULL DEFAULT false,
  receipt_file_id    uuid,
  notes              text CHECK (char_length(notes) <= 5000),
  version            integer NOT NULL DEFAULT 1,
  created_at         timestamptz NOT NULL DEFAULT now(),
  updated_at         timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (workspace_id, id),
  UNIQUE (workspace_id, receipt_file_id),
  -- A file deleted by itself is first detached (app.detach_links), as every link is.
  FOREIGN KEY (workspace_id, receipt_file_id) REFERENCES app.files (workspace_id, id)
);
CREATE INDEX expenses_spent_idx ON app.expenses (workspace_id, spent_on);
SELECT app.add_workspace_table('expenses');

-- A receipt belongs to its expense: it goes when the expense goes.
CREATE FUNCTION app.expense_removed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF OLD.receipt_file_id IS NOT NULL THEN
    DELETE FROM app.files WHERE workspace_id = OLD.workspace_id AND id = OLD.receipt_file_id;
  END IF;
  RETURN OLD;
END
$$;
CREATE TRIGGER expenses_removed AFTER DELETE ON app.expenses
  FOR EACH ROW EXECUTE FUNCTION app.expense_removed();

RESET ROLE;
