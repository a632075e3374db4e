SET ROLE minime_owner;

DROP TABLE app.business_documents;
DROP TABLE app.invoice_payments;
DROP TABLE app.credit_notes;
DROP TABLE app.invoices;
ALTER TABLE app.business_profiles DROP COLUMN credit_note_prefix, DROP COLUMN last_invoice_number,
  DROP COLUMN last_credit_note_number,
  DROP CONSTRAINT business_profiles_vrn_check;
UPDATE app.business_profiles SET vrn = NULL, vat_registered = false WHERE vrn !~ '^GB[0-9]{9}$';
UPDATE app.business_profiles SET vrn = substr(vrn, 3) WHERE vrn IS NOT NULL;
UPDATE app.clients SET vat_number = substr(vat_number, 3) WHERE vat_number ~ '^GB[0-9]{9}$';
ALTER TABLE app.business_profiles ADD CONSTRAINT business_profiles_vrn_check CHECK (vrn ~ '^[0-9]{9}$');

RESET ROLE;
