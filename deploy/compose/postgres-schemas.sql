-- In the database of one service (included by postgres-roles.sql with :schema, :owner and :app set): its projection schema and
-- its audit schema, both the owner's; the app role uses them. Tables the owner creates later (its
-- migrations, a rebuilt schema) are the app role's to read and write by default; the audit
-- migration then takes UPDATE and DELETE on the trail back (AUDIT_DDL), leaving INSERT and SELECT.
SET ROLE :"owner";
REVOKE ALL ON SCHEMA public FROM PUBLIC;
CREATE SCHEMA :"schema";
CREATE SCHEMA audit;
GRANT USAGE ON SCHEMA :"schema", audit TO :"app";
ALTER DEFAULT PRIVILEGES GRANT USAGE ON SCHEMAS TO :"app";
ALTER DEFAULT PRIVILEGES GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO :"app";
ALTER DEFAULT PRIVILEGES GRANT USAGE, SELECT ON SEQUENCES TO :"app";
RESET ROLE;
