#!/usr/bin/env bash
# The product's main job on an embedded default: a local lab with a real control plane, three
# nodes as network namespaces, the controller and speakers, a demo pool and Service.
#   bash scripts/lab.sh [up|down|status]   (default: up)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
cmd=${1:-up}
if [ "$cmd" = up ]; then
  bash scripts/setup.sh
  echo "[lab] building"
  pnpm exec turbo run build --output-logs=errors-only
fi
exec bash e2e/scripts/lab.sh "$cmd" "${@:2}"
