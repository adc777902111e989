#!/usr/bin/env bash
# Run once by the postgres image on an empty volume (/docker-entrypoint-initdb.d): the owner and app
# roles, databases and schemas of deploy/compose/postgres-roles.sql, with the passwords from the
# environment (docker-compose.yml).
set -euo pipefail
psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname postgres \
  -v comparison_owner_password="$PG_PASSWORD_COMPARISON_OWNER" -v comparison_app_password="$PG_PASSWORD_COMPARISON_APP" \
  -v survey_tasking_owner_password="$PG_PASSWORD_SURVEY_TASKING_OWNER" -v survey_tasking_app_password="$PG_PASSWORD_SURVEY_TASKING_APP" \
  -v review_owner_password="$PG_PASSWORD_REVIEW_OWNER" -v review_app_password="$PG_PASSWORD_REVIEW_APP" \
  -v dynamic_update_owner_password="$PG_PASSWORD_DYNAMIC_UPDATE_OWNER" -v dynamic_update_app_password="$PG_PASSWORD_DYNAMIC_UPDATE_APP" \
  -v keyring_owner_password="$PG_PASSWORD_KEYRING_OWNER" -v keyring_app_password="$PG_PASSWORD_KEYRING_APP" \
  -f /etc/qmcb/postgres-roles.sql
