SET ROLE minime_owner;
DROP TABLE app.expenses;
DROP FUNCTION app.expense_removed();
DROP TABLE app.files;
DROP FUNCTION app.file_removed();
RESET ROLE;
