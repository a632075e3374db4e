SET ROLE minime_owner;

-- Invoices made on an RRULE by the job queue: each occurrence makes one invoice (a draft, or
-- issued, or issued and mailed), never two: a run row per occurrence is unique.
CREATE TABLE app.recurring_invoices (
  id                  uuid NOT NULL,
  workspace_id        uuid NOT NULL REFERENCES app.workspaces (id) ON DELETE CASCADE,
  created_by          uuid NOT NULL REFERENCES auth.users (id) ON DELETE CASCADE,
  client_id           uuid NOT NULL,
  lines               jsonb NOT NULL CHECK (jsonb_typeof(lines) = 'array'),
  rrule               text NOT NULL CHECK (char_length(rrule) <= 500),
  start_date          date NOT NULL,
  -- The next occurrence to invoice; none when the rule has ended.
  next_date           date,
  action              text NOT NULL DEFAULT 'draft' CHECK (action IN ('draft', 'issue', 'issue_and_send')),
  payment_terms_days  integer CHECK (payment_terms_days BETWEEN 0 AND 365),
  notes               text CHECK (char_length(notes) <= 5000),
  active              boolean NOT NULL DEFAULT true,
  version             integer NOT NULL DEFAULT 1,
  created_at          timestamptz NOT NULL DEFAULT now(),
  updated_at          timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (workspace_id, id),
  FOREIGN KEY (workspace_id, client_id) REFERENCES app.clients (workspace_id, id)
);
CREATE INDEX recurring_invoices_client_idx ON app.recurring_invoices (workspace_id, client_id);
SELECT app.add_workspace_table('recurring_invoices');

CREATE TABLE app.recurring_invoice_runs (
  id            uuid NOT NULL,
  workspace_id  uuid NOT NULL REFERENCES app.workspaces (id) ON DELETE CASCADE,
  created_by    uuid NOT NULL REFERENCES auth.users (id) ON DELETE CASCADE,
  recurring_id  uuid NOT NULL,
  occurrence    date NOT NULL,
  invoice_id    uuid NOT NULL,
  version       integer NOT NULL DEFAULT 1,
  created_at    timestamptz NOT NULL DEFAULT now(),
  updated_at    timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (workspace_id, id),
  UNIQUE (workspace_id, recurring_id, occurrence),
  FOREIGN KEY (workspace_id, recurring_id) REFERENCES app.recurring_invoices (workspace_id, id) ON DELETE CASCADE,
  FOREIGN KEY (workspace_id, invoice_id) REFERENCES app.invoices (workspace_id, id)
);
CREATE INDEX recurring_invoice_runs_invoice_idx ON app.recurring_invoice_runs (workspace_id, invoice_id);
SELECT app.add_workspace_table('recurring_invoice_runs');

RESET ROLE;
