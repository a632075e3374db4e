SET ROLE minime_owner;
DROP TABLE app.bank_transactions;
DROP TABLE app.bank_statements;
DROP FUNCTION app.bank_statement_removed();
DROP FUNCTION app.bank_transaction_unlinked();
DROP TABLE app.bank_csv_mappings;
RESET ROLE;
