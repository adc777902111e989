#!/usr/bin/env bash
# Brings up the local infrastructure without Docker (docs/operations/local-infrastructure.md):
#   - a single-node KRaft Kafka 3.9.1 broker from Maven Central jars (reused if one answers),
#   - PostgreSQL and Redis (the machine's own; started only if they are down),
#   - the four service databases with their schemas,
#   - the log topic and the four dead-letter topics.
# Idempotent: a second run only checks, and takes a few seconds.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
# shellcheck source=deploy/local/env.sh
source "$ROOT/deploy/local/env.sh"

KAFKA_VERSION=3.9.1
CACHE="$QMCB_CACHE_DIR"
STATE="$QMCB_STATE_DIR"
LIBS="$CACHE/kafka-$KAFKA_VERSION/libs"
LIBS_MARKER="$LIBS/.qmcb-complete"
KSTATE="$STATE/kafka"
KAFKA_PID_FILE="$KSTATE/kafka.pid"
STARTED_DIR="$STATE/started-by-up" # markers for PostgreSQL/Redis started here (read by down.sh)

FIRST_BROKER="${KAFKA_BROKERS%%,*}"
KAFKA_HOST="${FIRST_BROKER%:*}"
KAFKA_PORT="${FIRST_BROKER##*:}"
KAFKA_CONTROLLER_PORT="${KAFKA_CONTROLLER_PORT:-$((KAFKA_PORT + 1))}"
KAFKA_START_TIMEOUT="${KAFKA_START_TIMEOUT:-90}"

REDIS_HOST_PORT="${REDIS_URL#*://}"
REDIS_HOST_PORT="${REDIS_HOST_PORT##*@}"
REDIS_HOST_PORT="${REDIS_HOST_PORT%%/*}"
REDIS_HOST="${REDIS_HOST_PORT%:*}"
REDIS_PORT="${REDIS_HOST_PORT##*:}"
[[ "$REDIS_PORT" == "$REDIS_HOST_PORT" ]] && REDIS_PORT=6379

START_TS="$EPOCHREALTIME"
say() { printf '[up] %s\n' "$*"; }
die() { printf '[up] ERROR: %s\n' "$*" >&2; exit 1; }
is_local() { [[ "$1" == 127.* || "$1" == localhost || "$1" == ::1 ]]; }
port_open() { timeout 2 bash -c "exec 3<>/dev/tcp/$1/$2" 2>/dev/null; }

mkdir -p "$STATE" "$STARTED_DIR"

[[ -d "$ROOT/node_modules/kafkajs" ]] || die "node_modules/kafkajs is missing: run 'npm ci' first"

# ---------------------------------------------------------------- Kafka
kafka_pid_alive() {
  [[ -f "$KAFKA_PID_FILE" ]] || return 1
  local pid
  pid="$(cat "$KAFKA_PID_FILE")"
  [[ -n "$pid" ]] && kill -0 "$pid" 2>/dev/null && tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -q 'kafka\.Kafka'
}

show_kafka_log() {
  local f
  for f in "$KSTATE/server.log" "$KSTATE/stdout.log"; do
    if [[ -s "$f" ]]; then
      if grep -qE '^\[[^]]*\] (ERROR|FATAL)' "$f"; then
        printf '[up] --- errors in %s ---\n' "$f" >&2
        grep -E '^\[[^]]*\] (ERROR|FATAL)' "$f" | tail -n 5 >&2
      fi
      printf '[up] --- last lines of %s ---\n' "$f" >&2
      tail -n 25 "$f" >&2
    fi
  done
}

fetch_kafka_jars() {
  if [[ -f "$LIBS_MARKER" ]]; then return 0; fi
  command -v mvn >/dev/null || die "mvn not found (needed once to fetch the Kafka jars into $LIBS)"
  command -v java >/dev/null || die "java not found (Kafka needs a JRE 11+)"
  say "fetching Kafka $KAFKA_VERSION jars into $LIBS (once)"
  mkdir -p "$LIBS"
  if ! mvn -q -B -Dstyle.color=never -f "$ROOT/deploy/local/kafka/pom.xml" dependency:copy-dependencies \
    -DoutputDirectory="$LIBS" -DincludeScope=runtime >"$CACHE/kafka-$KAFKA_VERSION/mvn.log" 2>&1; then
    tail -n 30 "$CACHE/kafka-$KAFKA_VERSION/mvn.log" >&2
    die "Maven could not fetch the Kafka jars (full output: $CACHE/kafka-$KAFKA_VERSION/mvn.log)"
  fi
  ls "$LIBS"/kafka_2.13-"$KAFKA_VERSION".jar >/dev/null 2>&1 || die "jar fetch did not produce kafka_2.13-$KAFKA_VERSION.jar"
  date -u +%FT%TZ >"$LIBS_MARKER"
}

write_kafka_config() {
  mkdir -p "$KSTATE/data"
  cat >"$KSTATE/server.properties" <<PROPS
# Written by deploy/local/up.sh: single-node KRaft (combined broker + controller), local only.
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@$KAFKA_HOST:$KAFKA_CONTROLLER_PORT
listeners=PLAINTEXT://$KAFKA_HOST:$KAFKA_PORT,CONTROLLER://$KAFKA_HOST:$KAFKA_CONTROLLER_PORT
advertised.listeners=PLAINTEXT://$KAFKA_HOST:$KAFKA_PORT
controller.listener.names=CONTROLLER
inter.broker.listener.name=PLAINTEXT
listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT
log.dirs=$KSTATE/data
num.partitions=1
default.replication.factor=1
offsets.topic.replication.factor=1
offsets.topic.num.partitions=10
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
min.insync.replicas=1
group.initial.rebalance.delay.ms=0
auto.create.topics.enable=false
# Retention is set per topic (the log keeps everything: retention.ms=-1, see topics.js).
PROPS
  cat >"$KSTATE/log4j.properties" <<PROPS
# Written by deploy/local/up.sh: broker log to $KSTATE/server.log.
log4j.rootLogger=INFO, file
log4j.appender.file=org.apache.log4j.RollingFileAppender
log4j.appender.file.File=$KSTATE/server.log
log4j.appender.file.MaxFileSize=50MB
log4j.appender.file.MaxBackupIndex=3
log4j.appender.file.layout=org.apache.log4j.PatternLayout
log4j.appender.file.layout.ConversionPattern=[%d] %p %m (%c)%n
log4j.logger.kafka=INFO
log4j.logger.org.apache.kafka=INFO
log4j.logger.kafka.request.logger=WARN
log4j.logger.kafka.network.RequestChannel\$=WARN
log4j.logger.kafka.log.LogCleaner=WARN
log4j.logger.state.change.logger=WARN
log4j.logger.kafka.authorizer.logger=WARN
log4j.logger.org.apache.kafka.clients=WARN
log4j.logger.org.apache.kafka.common.utils.AppInfoParser=WARN
PROPS
}

format_kafka_storage() {
  if [[ -f "$KSTATE/data/meta.properties" ]]; then return 0; fi
  local cluster_id
  cluster_id="$(java -cp "$LIBS/*" -Dlog4j.configuration="file:$KSTATE/log4j.properties" kafka.tools.StorageTool random-uuid)"
  say "formatting KRaft storage in $KSTATE/data (cluster $cluster_id)"
  java -cp "$LIBS/*" -Dlog4j.configuration="file:$KSTATE/log4j.properties" \
    kafka.tools.StorageTool format -t "$cluster_id" -c "$KSTATE/server.properties" --ignore-formatted >/dev/null
}

start_kafka() {
  fetch_kafka_jars
  write_kafka_config
  format_kafka_storage
  say "starting Kafka $KAFKA_VERSION on $KAFKA_HOST:$KAFKA_PORT (controller :$KAFKA_CONTROLLER_PORT, data $KSTATE/data)"
  # setsid + nohup: the broker outlives this shell and the terminal/job that ran it.
  nohup setsid java -Xms256m -Xmx1g -XX:+UseG1GC -Djava.awt.headless=true \
    -Dlog4j.configuration="file:$KSTATE/log4j.properties" \
    -cp "$LIBS/*" kafka.Kafka "$KSTATE/server.properties" \
    </dev/null >"$KSTATE/stdout.log" 2>&1 &
  echo $! >"$KAFKA_PID_FILE"
}

wait_for_kafka_port() {
  local deadline=$((SECONDS + KAFKA_START_TIMEOUT))
  until port_open "$KAFKA_HOST" "$KAFKA_PORT"; do
    if ! kafka_pid_alive; then
      show_kafka_log
      rm -f "$KAFKA_PID_FILE"
      die "the Kafka process exited before $KAFKA_HOST:$KAFKA_PORT answered (logs above, full log in $KSTATE/server.log)"
    fi
    if ((SECONDS >= deadline)); then
      show_kafka_log
      die "Kafka did not open $KAFKA_HOST:$KAFKA_PORT within ${KAFKA_START_TIMEOUT}s (pid $(cat "$KAFKA_PID_FILE"))"
    fi
    sleep 0.5
  done
}

if port_open "$KAFKA_HOST" "$KAFKA_PORT"; then
  if kafka_pid_alive; then
    say "Kafka: already running on $FIRST_BROKER (pid $(cat "$KAFKA_PID_FILE"), started by up.sh)"
  else
    say "Kafka: reusing the broker already answering on $FIRST_BROKER (not started by up.sh; down.sh leaves it alone)"
  fi
elif kafka_pid_alive; then
  say "Kafka: pid $(cat "$KAFKA_PID_FILE") is still starting, waiting"
  wait_for_kafka_port
else
  is_local "$KAFKA_HOST" || die "nothing answers on $FIRST_BROKER and it is not a local address: start that cluster or fix KAFKA_BROKERS"
  rm -f "$KAFKA_PID_FILE"
  start_kafka
  wait_for_kafka_port
fi
if ! node "$ROOT/deploy/local/wait-kafka.js" "$KAFKA_START_TIMEOUT"; then
  kafka_pid_alive && show_kafka_log
  die "Kafka on $KAFKA_BROKERS does not answer metadata requests"
fi

# ---------------------------------------------------------------- PostgreSQL
pg_up() { pg_isready -q -h "$PGHOST" -p "$PGPORT" -t 3; }
if pg_up; then
  say "PostgreSQL: up on $PGHOST:$PGPORT"
else
  is_local "$PGHOST" || die "PostgreSQL on $PGHOST:$PGPORT is down and not local: start it or fix PGHOST/PGPORT"
  # shellcheck disable=SC2012 # version directories: plain names
  PG_VERSION="$(ls /etc/postgresql 2>/dev/null | sort -V | tail -n 1)"
  [[ -n "$PG_VERSION" ]] || die "PostgreSQL is down and no cluster exists under /etc/postgresql"
  say "PostgreSQL: down, starting cluster $PG_VERSION/main"
  pg_ctlcluster --skip-systemctl-redirect "$PG_VERSION" main start
  echo "$PG_VERSION" >"$STARTED_DIR/postgresql"
  for _ in $(seq 1 30); do pg_up && break; sleep 1; done
  pg_up || die "PostgreSQL still does not answer on $PGHOST:$PGPORT (see /var/log/postgresql/)"
fi

# ---------------------------------------------------------------- Redis
redis_up() { [[ "$(redis-cli -h "$REDIS_HOST" -p "$REDIS_PORT" ping 2>/dev/null)" == PONG ]]; }
if redis_up; then
  say "Redis: up on $REDIS_HOST:$REDIS_PORT"
else
  is_local "$REDIS_HOST" || die "Redis on $REDIS_HOST:$REDIS_PORT is down and not local: start it or fix REDIS_URL"
  say "Redis: down, starting it on port $REDIS_PORT"
  mkdir -p /var/lib/redis /var/log/redis
  redis-server --daemonize yes --bind 127.0.0.1 -::1 --port "$REDIS_PORT" --save "" --appendonly no \
    --dir /var/lib/redis --logfile /var/log/redis/ci.log
  echo "$REDIS_PORT" >"$STARTED_DIR/redis"
  for _ in $(seq 1 20); do redis_up && break; sleep 0.5; done
  redis_up || die "Redis still does not answer on $REDIS_HOST:$REDIS_PORT (see /var/log/redis/ci.log)"
fi

# ---------------------------------------------------------------- databases
psql_q() { psql -h "$PGHOST" -p "$PGPORT" -U "$PGUSER" -v ON_ERROR_STOP=1 -qtA "$@"; }
EXISTING_DBS="$(psql_q -d postgres -c "SELECT datname FROM pg_database")"
for svc in $QMCB_SERVICES_LIST; do
  schema="${svc//-/_}"
  db="qmcb_$schema"
  if ! grep -qx "$db" <<<"$EXISTING_DBS"; then
    say "database $db: creating"
    psql_q -d postgres -c "CREATE DATABASE \"$db\""
  fi
  psql_q -d "$db" -c "SET client_min_messages = warning; CREATE SCHEMA IF NOT EXISTS \"$schema\""
done
# The keyring (ADR 0009): per-person data keys in a database of their own; its schema comes from
# its migration, run by the first process that opens it.
if ! grep -qx qmcb_keyring <<<"$EXISTING_DBS"; then
  say "database qmcb_keyring: creating"
  psql_q -d postgres -c 'CREATE DATABASE "qmcb_keyring"'
fi
say "databases: qmcb_{comparison,survey_tasking,review,dynamic_update} with their schemas, qmcb_keyring"

# ---------------------------------------------------------------- topics
node "$ROOT/deploy/local/topics.js"

ELAPSED_MS=$(( (${EPOCHREALTIME/./} - ${START_TS/./}) / 1000 ))
say "ready in $((ELAPSED_MS / 1000)).$(printf '%03d' $((ELAPSED_MS % 1000)))s: KAFKA_BROKERS=$KAFKA_BROKERS PGHOST=$PGHOST:$PGPORT REDIS_URL=$REDIS_URL"
