#!/usr/bin/env bash
# npm run projection -- <service> rebuild | seal-records | replay-dead-letters [id...] | migrate | audit verify | audit purge | old-schemas [drop [--keep N]]
set -euo pipefail
cd "$(dirname "$0")/.."
service="${1:-}"
case "$service" in
  comparison|survey-tasking|review|dynamic-update) shift ;;
  *) echo "usage: npm run projection -- <comparison|survey-tasking|review|dynamic-update> <rebuild|seal-records|replay-dead-letters [id...]|migrate|audit verify|audit purge|old-schemas [drop [--keep N]]>" >&2; exit 2 ;;
esac
exec node -r ./tools/register.js "services/$service/src/cli.ts" "$@"
