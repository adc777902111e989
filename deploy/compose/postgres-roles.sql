-- Least privilege in PostgreSQL (docs/security.md, "Deployment"): per service an owner, which runs
-- migrations, rebuilds and audit purges, and an app role the service runs as, which reads and
-- writes its tables and may only add to (and read) its audit trail.
--
--   psql -v ON_ERROR_STOP=1 -v comparison_owner_password=… -v comparison_app_password=… \
--        -v survey_tasking_owner_password=… … -v keyring_owner_password=… -v keyring_app_password=… -f postgres-roles.sql
--
-- Run by the postgres image on an empty volume (postgres-init.sh passes the passwords from the
-- environment) and by the deployment test against a cluster of its own (e2e/deployment.e2e-spec.ts).

SELECT set_config('qmcb.comparison_owner', :'comparison_owner_password', false),
       set_config('qmcb.comparison_app', :'comparison_app_password', false),
       set_config('qmcb.survey_tasking_owner', :'survey_tasking_owner_password', false),
       set_config('qmcb.survey_tasking_app', :'survey_tasking_app_password', false),
       set_config('qmcb.review_owner', :'review_owner_password', false),
       set_config('qmcb.review_app', :'review_app_password', false),
       set_config('qmcb.dynamic_update_owner', :'dynamic_update_owner_password', false),
       set_config('qmcb.dynamic_update_app', :'dynamic_update_app_password', false);

DO $$
DECLARE s text;
BEGIN
  FOREACH s IN ARRAY ARRAY['comparison', 'survey_tasking', 'review', 'dynamic_update'] LOOP
    IF length(current_setting('qmcb.' || s || '_owner')) < 16 OR length(current_setting('qmcb.' || s || '_app')) < 16 THEN
      RAISE EXCEPTION 'the passwords of % must be at least 16 characters', s;
    END IF;
    EXECUTE format('CREATE ROLE %I LOGIN PASSWORD %L', s || '_owner', current_setting('qmcb.' || s || '_owner'));
    EXECUTE format('CREATE ROLE %I LOGIN PASSWORD %L', s || '_app', current_setting('qmcb.' || s || '_app'));
  END LOOP;
END $$;

-- One database per service, owned by its owner; the app role may connect, never create.
CREATE DATABASE qmcb_comparison OWNER comparison_owner;
CREATE DATABASE qmcb_survey_tasking OWNER survey_tasking_owner;
CREATE DATABASE qmcb_review OWNER review_owner;
CREATE DATABASE qmcb_dynamic_update OWNER dynamic_update_owner;
REVOKE ALL ON DATABASE qmcb_comparison, qmcb_survey_tasking, qmcb_review, qmcb_dynamic_update FROM PUBLIC;
GRANT CONNECT ON DATABASE qmcb_comparison TO comparison_app;
GRANT CONNECT ON DATABASE qmcb_survey_tasking TO survey_tasking_app;
GRANT CONNECT ON DATABASE qmcb_review TO review_app;
GRANT CONNECT ON DATABASE qmcb_dynamic_update TO dynamic_update_app;

\connect qmcb_comparison
\set schema comparison
\set owner comparison_owner
\set app comparison_app
\ir postgres-schemas.sql
\connect qmcb_survey_tasking
\set schema survey_tasking
\set owner survey_tasking_owner
\set app survey_tasking_app
\ir postgres-schemas.sql
\connect qmcb_review
\set schema review
\set owner review_owner
\set app review_app
\ir postgres-schemas.sql
\connect qmcb_dynamic_update
\set schema dynamic_update
\set owner dynamic_update_owner
\set app dynamic_update_app
\ir postgres-schemas.sql

-- The keyring (ADR 0009): per-person data keys in a database of their own. Its owner creates the
-- table (the first migrate) and runs `keyring erase` and `keyring rotate`; the services connect as
-- keyring_app, which may read keys and add new ones, never overwrite or destroy one.
\connect postgres
SELECT set_config('qmcb.keyring_owner', :'keyring_owner_password', false),
       set_config('qmcb.keyring_app', :'keyring_app_password', false);
DO $$
BEGIN
  IF length(current_setting('qmcb.keyring_owner')) < 16 OR length(current_setting('qmcb.keyring_app')) < 16 THEN
    RAISE EXCEPTION 'the passwords of the keyring must be at least 16 characters';
  END IF;
  EXECUTE format('CREATE ROLE keyring_owner LOGIN PASSWORD %L', current_setting('qmcb.keyring_owner'));
  EXECUTE format('CREATE ROLE keyring_app LOGIN PASSWORD %L', current_setting('qmcb.keyring_app'));
END $$;
CREATE DATABASE qmcb_keyring OWNER keyring_owner;
REVOKE ALL ON DATABASE qmcb_keyring FROM PUBLIC;
GRANT CONNECT ON DATABASE qmcb_keyring TO keyring_app;
\connect qmcb_keyring
SET ROLE keyring_owner;
REVOKE ALL ON SCHEMA public FROM PUBLIC;
CREATE SCHEMA keyring;
GRANT USAGE ON SCHEMA keyring TO keyring_app;
ALTER DEFAULT PRIVILEGES IN SCHEMA keyring GRANT SELECT, INSERT ON TABLES TO keyring_app;
RESET ROLE;
