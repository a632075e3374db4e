SET ROLE minime_owner;
DROP TABLE app.day_plan_items;
DROP TABLE app.day_plans;
RESET ROLE;
