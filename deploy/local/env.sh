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

# Local state, never tracked: jars in the cache, broker data/pid/logs in the state dir.
export QMCB_CACHE_DIR="${QMCB_CACHE_DIR:-$HOME/.cache/qmcb}"
export QMCB_STATE_DIR="${QMCB_STATE_DIR:-$HOME/.local/state/qmcb}"

# Secrets: none is written in the repository (services refuse short or published ones, whatever
# NODE_ENV says). A local stack makes its own once, kept in the state dir (mode 600), unless set.
QMCB_SECRETS_FILE="$QMCB_STATE_DIR/secrets.env"
if [[ -z "${AUTH_JWT_SECRET:-}" || -z "${API_KEY_SECRET:-}" || -z "${PERSON_ID_SECRET:-}" || -z "${KEYRING_MASTER_KEYS:-}" || -z "${LOG_PERSON_REF_SECRET:-}" ]]; then
  mkdir -p "$QMCB_STATE_DIR"
  if [[ ! -s "$QMCB_SECRETS_FILE" ]]; then
    (
      umask 077
      for name in AUTH_JWT_SECRET API_KEY_SECRET PERSON_ID_SECRET; do
        printf '%s=%s\n' "$name" "$(head -c 48 /dev/urandom | base64 | tr -d '=+/\n')"
      done >"$QMCB_SECRETS_FILE"
    )
  fi
  # The log's sealing (ADR 0009), added to a secrets file made before it existed. Losing the master
  # key makes the local log unreadable: it lives in the same file as the other secrets.
  if ! grep -q '^KEYRING_MASTER_KEYS=' "$QMCB_SECRETS_FILE"; then
    (
      umask 077
      printf 'KEYRING_MASTER_KEYS=local1:%s\n' "$(head -c 32 /dev/urandom | base64 | tr -d '=\n')"
      printf 'LOG_PERSON_REF_SECRET=%s\n' "$(head -c 48 /dev/urandom | base64 | tr -d '=+/\n')"
    ) >>"$QMCB_SECRETS_FILE"
  fi
  # shellcheck disable=SC1090 # generated above
  while IFS='=' read -r name value; do
    [[ -n "$name" && -z "${!name:-}" ]] && export "$name=$value"
  done <"$QMCB_SECRETS_FILE"
fi

# The four services, their consumer groups (= service name) and ports.
QMCB_SERVICES=(comparison survey-tasking review dynamic-update)
export QMCB_SERVICES_LIST="${QMCB_SERVICES[*]}"
