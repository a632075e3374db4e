SET ROLE minime_owner;

-- The business of a sole trader, one per workspace. Bank details are sealed with the key ring
-- (place: app.business_profiles, bank_details, workspace id); only their masked forms are kept
-- in clear, for display.
CREATE TABLE app.business_profiles (
  id                      uuid NOT NULL,
  workspace_id            uuid NOT NULL REFERENCES app.workspaces (id) ON DELETE CASCADE,
  created_by              uuid NOT NULL REFERENCES auth.users (id) ON DELETE CASCADE,
  business_name           text NOT NULL CHECK (char_length(business_name) BETWEEN 1 AND 200),
  address_lines           text[] NOT NULL DEFAULT '{}' CHECK (cardinality(address_lines) <= 6),
  postcode                text CHECK (char_length(postcode) <= 20),
  country                 text NOT NULL DEFAULT 'GB' CHECK (country ~ '^[A-Z]{2}$'),
  phone                   text CHECK (char_length(phone) <= 50),
  email                   text CHECK (char_length(email) <= 320),
  vat_registered          boolean NOT NULL DEFAULT false,
  vrn                     text CHECK (vrn ~ '^[0-9]{9}$'),
  work_type               text NOT NULL DEFAULT 'freelance' CHECK (work_type IN ('agency', 'freelance')),
  agency_commission_bp    integer CHECK (agency_commission_bp BETWEEN 0 AND 10000),
  payment_terms_days      integer NOT NULL DEFAULT 30 CHECK (payment_terms_days BETWEEN 0 AND 365),
  invoice_prefix          text NOT NULL DEFAULT 'INV-' CHECK (char_length(invoice_prefix) <= 20),
  invoice_padding         integer NOT NULL DEFAULT 4 CHECK (invoice_padding BETWEEN 1 AND 10),
  bank_details            bytea,
  sort_code_masked        text CHECK (char_length(sort_code_masked) <= 8),
  account_number_masked   text CHECK (char_length(account_number_masked) <= 8),
  accountant_name         text CHECK (char_length(accountant_name) <= 200),
  accountant_email        text CHECK (char_length(accountant_email) <= 320),
  accountant_phone        text CHECK (char_length(accountant_phone) <= 50),
  version                 integer NOT NULL DEFAULT 1,
  created_at              timestamptz NOT NULL DEFAULT now(),
  updated_at              timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (workspace_id, id),
  UNIQUE (workspace_id),
  CHECK ((vrn IS NOT NULL) = vat_registered),
  CHECK ((bank_details IS NULL) = (sort_code_masked IS NULL) AND (bank_details IS NULL) = (account_number_masked IS NULL))
);
SELECT app.add_workspace_table('business_profiles');

CREATE TABLE app.clients (
  id                  uuid NOT NULL,
  workspace_id        uuid NOT NULL REFERENCES app.workspaces (id) ON DELETE CASCADE,
  created_by          uuid NOT NULL REFERENCES auth.users (id) ON DELETE CASCADE,
  name                text NOT NULL CHECK (char_length(name) BETWEEN 1 AND 200),
  contact_name        text CHECK (char_length(contact_name) <= 200),
  email               text CHECK (char_length(email) <= 320),
  phone               text CHECK (char_length(phone) <= 50),
  address             text CHECK (char_length(address) <= 1000),
  payment_terms_days  integer CHECK (payment_terms_days BETWEEN 0 AND 365),
  vat_number          text CHECK (char_length(vat_number) <= 20),
  vat_registered      boolean NOT NULL DEFAULT false,
  cis_registered      boolean NOT NULL DEFAULT false,
  end_user            boolean NOT NULL DEFAULT false,
  notes               text CHECK (char_length(notes) <= 20000),
  archived            boolean NOT NULL DEFAULT false,
  version             integer NOT NULL DEFAULT 1,
  created_at          timestamptz NOT NULL DEFAULT now(),
  updated_at          timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (workspace_id, id)
);
SELECT app.add_workspace_table('clients');

-- Work done for a client (not ops.jobs, the server's queue). Money in integer pence.
CREATE TABLE app.business_jobs (
  id                    uuid NOT NULL,
  workspace_id          uuid NOT NULL REFERENCES app.workspaces (id) ON DELETE CASCADE,
  created_by            uuid NOT NULL REFERENCES auth.users (id) ON DELETE CASCADE,
  client_id             uuid NOT NULL,
  title                 text NOT NULL CHECK (char_length(title) BETWEEN 1 AND 200),
  start_date            date,
  end_date              date CHECK (end_date >= start_date),
  fee_kind              text NOT NULL DEFAULT 'fixed' CHECK (fee_kind IN ('fixed', 'hourly', 'daily')),
  quantity              numeric(12, 4) NOT NULL DEFAULT 1 CHECK (quantity >= 0),
  rate_pence            bigint NOT NULL CHECK (rate_pence >= 0),
  agency_commission_bp  integer CHECK (agency_commission_bp BETWEEN 0 AND 10000),
  status                text NOT NULL DEFAULT 'planned' CHECK (status IN ('planned', 'in_progress', 'done', 'invoiced', 'cancelled')),
  version               integer NOT NULL DEFAULT 1,
  created_at            timestamptz NOT NULL DEFAULT now(),
  updated_at            timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (workspace_id, id),
  -- A client's jobs go with it; archive a client to keep them.
  FOREIGN KEY (workspace_id, client_id) REFERENCES app.clients (workspace_id, id) ON DELETE CASCADE
);
CREATE INDEX business_jobs_client_idx ON app.business_jobs (workspace_id, client_id);
SELECT app.add_workspace_table('business_jobs');

-- Every sealed bank detail, for re-sealing under a new key, and the swap (only if unchanged).
CREATE FUNCTION ops.bank_details_sealed()
  RETURNS TABLE (workspace_id uuid, bank_details bytea) LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
  AS $$ SELECT p.workspace_id, p.bank_details FROM app.business_profiles p
        WHERE p.bank_details IS NOT NULL ORDER BY p.workspace_id $$;
CREATE FUNCTION ops.bank_details_reseal(p_workspace uuid, p_old bytea, p_new bytea) RETURNS boolean
  LANGUAGE sql SECURITY DEFINER SET search_path = pg_catalog, pg_temp
  AS $$
    WITH done AS (UPDATE app.business_profiles SET bank_details = p_new
                  WHERE workspace_id = p_workspace AND bank_details = p_old RETURNING 1)
    SELECT EXISTS (SELECT 1 FROM done)
  $$;

REVOKE ALL ON FUNCTION ops.bank_details_sealed(), ops.bank_details_reseal(uuid, bytea, bytea) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION ops.bank_details_sealed(), ops.bank_details_reseal(uuid, bytea, bytea) TO minime_app;

RESET ROLE;
