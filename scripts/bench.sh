#!/usr/bin/env bash
# Every benchmark of the project, one after the other; each prints one table whose rows were
# measured in the same run. Pass a filter to run only matching files: pnpm bench allocator
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
filter=${1:-}
# Set-up progress goes to stderr so a cold control-plane build is never silent.
bash scripts/setup.sh >&2
pnpm exec turbo run build --output-logs=errors-only
mapfile -t files < <(ls packages/*/bench/*.bench.ts e2e/bench/*.bench.ts 2>/dev/null | grep -- "$filter" || true)
[ ${#files[@]} -gt 0 ] || { echo "no benchmark matches '$filter'" >&2; exit 1; }
for f in "${files[@]}"; do
  echo; echo "### $f"
  case "$f" in
    # Hours long: in a lab of its own (scripts/sandbox.sh), so the machine's lab stays free.
    *soak.bench.ts) bash scripts/sandbox.sh node --expose-gc --import tsx "$f" ;;
    *) node --expose-gc --import tsx "$f" ;;
  esac
done
