SET ROLE minime_owner;

DROP TABLE app.recurring_invoice_runs;
DROP TABLE app.recurring_invoices;

RESET ROLE;
