#!/usr/bin/env bash
# The whole test suite, as documented in the README (`npm test`) and run by CI (.ci/run):
#   dependencies -> local infrastructure -> lint -> typecheck -> jest unit -> int -> e2e -> the
#   image's runtime stage reproduced without Docker (tools/check-runtime-stage.sh).
# Fails fast: the first failing step stops the run. The last line sums up jest's tests.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
export TZ="${TZ:-UTC}"
# shellcheck source=deploy/local/env.sh
source "$ROOT/deploy/local/env.sh"

REPORTS="$ROOT/tmp/test-all"
mkdir -p "$REPORTS"
rm -f "$REPORTS"/jest-*.json

STEPS=(deps infra lint typecheck unit int e2e runtime-stage)
STEP_NO=0
CURRENT=""
RUN_START=$SECONDS

# Sums numPassedTests/numFailedTests/numPendingTests over the jest reports written so far.
jest_totals() {
  # shellcheck disable=SC2016 # JavaScript, not shell
  node -e '
    const fs = require("fs"); const path = require("path");
    const dir = process.argv[1]; let p = 0, f = 0, s = 0;
    for (const name of fs.readdirSync(dir).filter((n) => /^jest-.*\.json$/.test(n))) {
      try {
        const r = JSON.parse(fs.readFileSync(path.join(dir, name), "utf8"));
        p += r.numPassedTests; f += r.numFailedTests; s += r.numPendingTests + (r.numTodoTests || 0);
      } catch { /* a run that crashed before writing its report */ }
    }
    console.log(`${p} ${f} ${s}`);
  ' "$REPORTS"
}

summary() {
  local rc=$?
  local passed failed skipped
  read -r passed failed skipped < <(jest_totals 2>/dev/null || echo "0 0 0")
  echo
  if ((rc == 0)); then
    echo "[test-all] OK: all ${#STEPS[@]} steps passed in $((SECONDS - RUN_START))s"
  else
    echo "[test-all] FAILED at step ${STEP_NO}/${#STEPS[@]} (${CURRENT}) after $((SECONDS - RUN_START))s (exit ${rc})"
    # A failing step other than jest leaves no failed test behind: count the step itself.
    if ((failed == 0)); then failed=1; fi
  fi
  echo "tests: ${passed} passed, ${failed} failed, ${skipped} skipped"
  exit "$rc"
}
trap summary EXIT

step() {
  CURRENT="$1"
  STEP_NO=$((STEP_NO + 1))
  shift
  echo
  echo "==> [${STEP_NO}/${#STEPS[@]}] ${CURRENT}: $*"
  local t0=$SECONDS
  "$@"
  echo "<== ${CURRENT} passed ($((SECONDS - t0))s)"
}

deps() {
  if [[ ! -d node_modules || ! -f node_modules/.package-lock.json || package-lock.json -nt node_modules/.package-lock.json ]]; then
    npm ci --no-audit --no-fund
  else
    echo "node_modules is up to date with package-lock.json"
  fi
}

jest_tier() {
  local tier="$1"
  shift
  npx jest -c jest.config.js --selectProjects "$tier" --ci \
    --json --outputFile="$REPORTS/jest-$tier.json" "$@"
}

step deps deps
step infra bash deploy/local/up.sh
step lint npx nx run-many -t lint --outputStyle=static
step typecheck npx tsc -p tsconfig.json --noEmit
step unit jest_tier unit
step int jest_tier int --runInBand
step e2e jest_tier e2e --runInBand
step runtime-stage bash tools/check-runtime-stage.sh
