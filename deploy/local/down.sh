#!/usr/bin/env bash
# Stops what deploy/local/up.sh started, and only that:
#   - the Kafka broker whose pid is in $QMCB_STATE_DIR/kafka/kafka.pid (a broker that was already
#     answering when up.sh ran is left alone),
#   - PostgreSQL / Redis only if up.sh had to start them (markers in $QMCB_STATE_DIR/started-by-up).
# Data is kept; `--purge` also deletes the broker's state ($QMCB_STATE_DIR/kafka: data, logs).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
# shellcheck source=deploy/local/env.sh
source "$ROOT/deploy/local/env.sh"

PURGE=false
for arg in "$@"; do
  case "$arg" in
    --purge) PURGE=true ;;
    -h | --help) sed -n '2,7p' "${BASH_SOURCE[0]}"; exit 0 ;;
    *) echo "[down] unknown argument: $arg (use --purge)" >&2; exit 2 ;;
  esac
done

STATE="$QMCB_STATE_DIR"
KSTATE="$STATE/kafka"
KAFKA_PID_FILE="$KSTATE/kafka.pid"
STARTED_DIR="$STATE/started-by-up"
say() { printf '[down] %s\n' "$*"; }

is_our_kafka() { kill -0 "$1" 2>/dev/null && tr '\0' ' ' <"/proc/$1/cmdline" 2>/dev/null | grep -q 'kafka\.Kafka'; }

# ---------------------------------------------------------------- Kafka
if [[ -f "$KAFKA_PID_FILE" ]]; then
  pid="$(cat "$KAFKA_PID_FILE")"
  if [[ -n "$pid" ]] && is_our_kafka "$pid"; then
    say "stopping Kafka (pid $pid)"
    kill -TERM "$pid"
    # A controlled shutdown of a single node takes a few seconds; force it after 30.
    for _ in $(seq 1 60); do is_our_kafka "$pid" || break; sleep 0.5; done
    if is_our_kafka "$pid"; then
      say "Kafka did not stop within 30s, killing it"
      kill -KILL "$pid" 2>/dev/null || true
      for _ in $(seq 1 10); do is_our_kafka "$pid" || break; sleep 0.5; done
    fi
  else
    say "Kafka: pid file is stale (pid ${pid:-none} is not a running broker)"
  fi
  rm -f "$KAFKA_PID_FILE"
else
  say "Kafka: not started by up.sh, nothing to stop"
fi

# ---------------------------------------------------------------- PostgreSQL / Redis
if [[ -f "$STARTED_DIR/postgresql" ]]; then
  ver="$(cat "$STARTED_DIR/postgresql")"
  say "stopping PostgreSQL $ver/main (started by up.sh)"
  pg_ctlcluster --skip-systemctl-redirect "$ver" main stop || say "PostgreSQL stop failed (already stopped?)"
  rm -f "$STARTED_DIR/postgresql"
fi
if [[ -f "$STARTED_DIR/redis" ]]; then
  port="$(cat "$STARTED_DIR/redis")"
  say "stopping Redis on port $port (started by up.sh)"
  redis-cli -h 127.0.0.1 -p "$port" shutdown nosave >/dev/null 2>&1 || say "Redis shutdown failed (already stopped?)"
  rm -f "$STARTED_DIR/redis"
fi

# ---------------------------------------------------------------- purge
if $PURGE; then
  say "purging broker state $KSTATE"
  rm -rf "$KSTATE"
else
  say "data kept in $STATE (use --purge to delete the broker's data)"
fi
