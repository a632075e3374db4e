SET ROLE minime_owner;

-- How a business accounts for VAT: the scheme (standard, or the Flat Rate Scheme with its
-- sector), the basis (invoices or cash), and the registration date the Flat Rate Scheme's
-- first-year discount runs from. One row per workspace, beside the business profile.
CREATE TABLE app.vat_settings (
  id                 uuid NOT NULL,
  workspace_id       uuid NOT NULL REFERENCES app.workspaces (id) ON DELETE CASCADE,
  created_by         uuid NOT NULL REFERENCES auth.users (id) ON DELETE CASCADE,
  scheme             text NOT NULL DEFAULT 'standard' CHECK (scheme IN ('standard', 'flat_rate')),
  basis              text NOT NULL DEFAULT 'accrual' CHECK (basis IN ('accrual', 'cash')),
  flat_rate_sector   text CHECK (char_length(flat_rate_sector) <= 100),
  -- A percentage HMRC confirmed that the sector table does not give.
  flat_rate_bp       integer CHECK (flat_rate_bp BETWEEN 0 AND 10000),
  registered_on      date,
  version            integer NOT NULL DEFAULT 1,
  created_at         timestamptz NOT NULL DEFAULT now(),
  updated_at         timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (workspace_id, id),
  UNIQUE (workspace_id),
  CHECK (scheme <> 'flat_rate' OR (registered_on IS NOT NULL
                                   AND (flat_rate_sector IS NOT NULL) <> (flat_rate_bp IS NOT NULL)))
);
SELECT app.add_workspace_table('vat_settings');

RESET ROLE;
