SET ROLE minime_owner;
DROP TABLE app.bank_transactions;
DROP TABLE app.bank_statements;
DROP FUNCTION app.bank_statement_removed();
DROP TABLE app.bank_csv_mappings;
RESET ROLE;
