#!/usr/bin/env bash
# Starts the whole system locally and runs one person through it. `--exit` stops it afterwards.
set -euo pipefail
cd "$(dirname "$0")/.."
export TZ=UTC
if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  echo "==> installing dependencies (npm ci)"
  npm ci --no-audit --no-fund
fi
echo "==> starting local infrastructure (Kafka, PostgreSQL, Redis, databases, topics)"
bash deploy/local/up.sh
# The local stack's secrets (made once into the state directory): the services have no defaults.
# shellcheck source=deploy/local/env.sh
source deploy/local/env.sh
exec node -r ./tools/register.js tools/demo.ts "$@"
