#!/usr/bin/env bash
# What the runtime stage of deploy/compose/Dockerfile does, on a machine without a Docker engine,
# and each service started from it:
#   1. npm run build (nx run-many -t build; cached when nothing changed)       the build stage's output
#   2. a fresh directory with package.json, package-lock.json, `npm ci --omit=dev` and dist/ only
#                                                                              the runtime stage
#   3. in that directory, with a bare environment (no NODE_PATH, NODE_OPTIONS or anything inherited),
#      NODE_ENV=production, TZ=UTC, generated secrets, its own throwaway database and a throwaway topic:
#      `node dist/services/<service>/src/main.js` for the four services, until GET /health answers 200
#      with every check up; then `node dist/services/<service>/src/cli.js` prints its usage and exits 2.
#
#   npm run check:runtime-stage [-- --keep]     (--keep leaves the directory for a look)
#
# Needs the local infrastructure (deploy/local/up.sh, or KAFKA_BROKERS/PGHOST/PGPORT/PGUSER/REDIS_URL
# pointing elsewhere) and the npm registry. Drops its databases and deletes its topics on the way out.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
# shellcheck source=deploy/local/env.sh
source deploy/local/env.sh
keep=false
[[ "${1:-}" == "--keep" ]] && keep=true

SERVICES=(comparison survey-tasking review dynamic-update)
PORTS=(3281 3282 3283 3284)
run_id="rt$(node -e 'process.stdout.write(require("crypto").randomBytes(4).toString("hex"))')"
topic="test.${run_id}"
app="$(mktemp -d "${TMPDIR:-/tmp}/qmcb-runtime-stage.XXXXXX")"
pids=()

log() { printf '[runtime-stage] %s\n' "$*"; }

# Database and topic housekeeping, with the pg and kafkajs of the production install.
admin() {
  (cd "$app" && env -i PATH="$PATH" HOME="$HOME" PGHOST="$PGHOST" PGPORT="$PGPORT" PGUSER="$PGUSER" \
    ${PGPASSWORD:+PGPASSWORD="$PGPASSWORD"} KAFKA_BROKERS="$KAFKA_BROKERS" RUN_ID="$run_id" TOPIC="$topic" \
    node -e "$1")
}
# shellcheck disable=SC2016 # JavaScript template literals, not shell
ADMIN_JS='
const { Client } = require("pg");
const { Kafka, logLevel } = require("kafkajs");
// The databases of the four services and of the keyring (ADR 0009).
const services = ["comparison", "survey-tasking", "review", "dynamic-update", "keyring"];
const db = (s) => `qmcb_${process.env.RUN_ID}_${s.replace(/-/g, "_")}`;
async function onServer(sql) {
  const c = new Client({ database: "postgres" });
  await c.connect();
  try { for (const q of sql) await c.query(q); } finally { await c.end(); }
}
async function topics(fn) {
  const admin = new Kafka({ brokers: process.env.KAFKA_BROKERS.split(","), logLevel: logLevel.NOTHING }).admin();
  await admin.connect();
  try { await fn(admin); } finally { await admin.disconnect(); }
}
'

cleanup() {
  local rc=$?
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  if [[ -d "$app/node_modules" ]]; then
    admin "$ADMIN_JS
      (async () => {
        await onServer(services.map((s) => \`drop database if exists \${db(s)} with (force)\`));
        await topics(async (a) => {
          const mine = (await a.listTopics()).filter((t) => t === process.env.TOPIC || t.startsWith(process.env.TOPIC + \".\"));
          if (mine.length) await a.deleteTopics({ topics: mine });
        });
      })().catch((e) => { console.error(\"cleanup: \" + e.message); process.exit(1); });" || rc=1
  fi
  if $keep; then log "kept $app"; else rm -rf "$app"; fi
  if [[ $rc -eq 0 ]]; then log "OK"; else log "FAILED (exit $rc)"; fi
  exit "$rc"
}
trap cleanup EXIT

log "1. build (npm run build)"
npm run --silent build >/dev/null

log "2. runtime stage in $app: package.json, package-lock.json, npm ci --omit=dev, dist/"
cp package.json package-lock.json "$app/"
(cd "$app" && npm ci --omit=dev --no-audit --no-fund --loglevel=error >/dev/null)
cp -R dist "$app/dist"
cp -R config "$app/config"
for dev_only in tsconfig-paths @swc-node/register jest nx; do
  if [[ -e "$app/node_modules/$dev_only" ]]; then log "unexpected in a production install: $dev_only"; exit 1; fi
done
if [[ ! -f "$app/config/region-policies.json" ]]; then log "the runtime stage lacks config/region-policies.json"; exit 1; fi

log "3. four throwaway databases (qmcb_${run_id}_*) and topic $topic"
admin "$ADMIN_JS
  onServer(services.map((s) => \`create database \${db(s)}\`)).catch((e) => { console.error(e.message); process.exit(1); });"

secret() { node -e 'process.stdout.write(require("crypto").randomBytes(32).toString("hex"))'; }
jwt_secret="$(secret)"
key_secret="$(secret)"
person_id_secret="$(secret)"
ref_secret="$(secret)"
master_keys="run:$(node -e 'process.stdout.write(require("crypto").randomBytes(32).toString("base64"))')"
for i in "${!SERVICES[@]}"; do
  svc="${SERVICES[$i]}"
  (cd "$app" && exec env -i PATH="$PATH" HOME="$HOME" NODE_ENV=production TZ=UTC \
    PORT="${PORTS[$i]}" KAFKA_BROKERS="$KAFKA_BROKERS" LOG_TOPIC="$topic" CONSUMER_GROUP="${svc}-${run_id}" \
    DATABASE_URL="postgres://${PGUSER}${PGPASSWORD:+:$PGPASSWORD}@${PGHOST}:${PGPORT}/qmcb_${run_id}_${svc//-/_}" \
    REDIS_URL="$REDIS_URL" AUTH_JWT_SECRET="$jwt_secret" API_KEY_SECRET="$key_secret" PERSON_ID_SECRET="$person_id_secret" \
    KEYRING_DATABASE_URL="postgres://${PGUSER}${PGPASSWORD:+:$PGPASSWORD}@${PGHOST}:${PGPORT}/qmcb_${run_id}_keyring" \
    KEYRING_MASTER_KEYS="$master_keys" LOG_PERSON_REF_SECRET="$ref_secret" \
    MANAGEMENT_PORT="$((PORTS[$i] + 1000))" \
    node "dist/services/${svc}/src/main.js" >"$app/${svc}.log" 2>&1) &
  pids+=("$!")
done

for i in "${!SERVICES[@]}"; do
  svc="${SERVICES[$i]}"
  url="http://127.0.0.1:${PORTS[$i]}/health"
  body=""
  for _ in $(seq 1 240); do
    if ! kill -0 "${pids[$i]}" 2>/dev/null; then log "$svc exited before it was healthy:"; tail -20 "$app/${svc}.log"; exit 1; fi
    body="$(node -e 'fetch(process.argv[1]).then(async (r) => { const b = await r.json(); const up = r.status === 200 && b.status === "ok" && ["kafka", "postgres", "redis"].every((c) => b.checks[c] === "up"); process.stdout.write(JSON.stringify(b)); process.exit(up ? 0 : 1); }, () => process.exit(1))' "$url" 2>/dev/null)" && break
    body=""
    sleep 0.25
  done
  if [[ -z "$body" ]]; then log "$svc: $url not healthy within 60 s"; tail -20 "$app/${svc}.log"; exit 1; fi
  log "$svc: node dist/services/${svc}/src/main.js -> GET /health 200 $body"
done

for svc in "${SERVICES[@]}"; do
  set +e
  usage="$(cd "$app" && env -i PATH="$PATH" HOME="$HOME" NODE_ENV=production node "dist/services/${svc}/src/cli.js" 2>&1)"
  status=$?
  set -e
  if [[ $status -ne 2 || "$usage" != usage:* ]]; then log "$svc: cli.js without a command exited $status: $usage"; exit 1; fi
  log "$svc: node dist/services/${svc}/src/cli.js -> usage, exit 2"
done
