# shellcheck shell=bash
# Defaults from docs/conventions.md ("Addresses"). Sourced by deploy/local/*.sh and tools/*.sh;
# every value can be overridden by exporting it before sourcing (e.g. to point at a real cluster).
# Per-service DATABASE_URL/DB_SCHEMA are not exported here: each service derives its own
# (postgres://postgres@127.0.0.1:5432/qmcb_<service>, schema <service with _>).

export KAFKA_BROKERS="${KAFKA_BROKERS:-127.0.0.1:9092}"
export LOG_TOPIC="${LOG_TOPIC:-registration.changes.v1}"
export LOG_PARTITIONS="${LOG_PARTITIONS:-6}"
export LOG_REPLICATION="${LOG_REPLICATION:-1}"

export PGHOST="${PGHOST:-127.0.0.1}"
export PGPORT="${PGPORT:-5432}"
export PGUSER="${PGUSER:-postgres}"
# PGPASSWORD: none by default (trust auth locally); exported only when set by the caller.
if [[ -n "${PGPASSWORD:-}" ]]; then export PGPASSWORD; fi

export REDIS_URL="${REDIS_URL:-redis://127.0.0.1:6379}"

export AUTH_JWT_SECRET="${AUTH_JWT_SECRET:-dev-only-jwt-secret-change-me}"
export API_KEY_SECRET="${API_KEY_SECRET:-dev-only-api-key-secret-change-me}"

# Local state, never tracked: jars in the cache, broker data/pid/logs in the state dir.
export QMCB_CACHE_DIR="${QMCB_CACHE_DIR:-$HOME/.cache/qmcb}"
export QMCB_STATE_DIR="${QMCB_STATE_DIR:-$HOME/.local/state/qmcb}"

# The four services, their consumer groups (= service name) and ports.
QMCB_SERVICES=(comparison survey-tasking review dynamic-update)
export QMCB_SERVICES_LIST="${QMCB_SERVICES[*]}"
