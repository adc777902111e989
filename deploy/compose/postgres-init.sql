-- Run once by the postgres image on an empty volume (/docker-entrypoint-initdb.d).
-- One database per service, each with the service's schema (docs/conventions.md, "PostgreSQL").
-- Same result as deploy/local/up.sh on a host without Docker.
CREATE DATABASE qmcb_comparison;
CREATE DATABASE qmcb_survey_tasking;
CREATE DATABASE qmcb_review;
CREATE DATABASE qmcb_dynamic_update;
-- The keyring (ADR 0009): per-person data keys, apart from every service's data.
CREATE DATABASE qmcb_keyring;

\connect qmcb_comparison
CREATE SCHEMA IF NOT EXISTS comparison;
\connect qmcb_survey_tasking
CREATE SCHEMA IF NOT EXISTS survey_tasking;
\connect qmcb_review
CREATE SCHEMA IF NOT EXISTS review;
\connect qmcb_dynamic_update
CREATE SCHEMA IF NOT EXISTS dynamic_update;
