#!/usr/bin/env bash
# Every fuzz driver, 1M cases each unless told otherwise: pnpm fuzz [iterations] [seed]
# Exits non-zero when any driver reports a finding; the seed it prints replays the run.
set -euo pipefail
cd "$(dirname "$0")/.."
status=0
for f in packages/*/fuzz/*.fuzz.ts; do
  echo "### $f"
  pnpm exec tsx "$f" "$@" || status=1
done
exit $status
