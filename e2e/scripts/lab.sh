#!/usr/bin/env bash
# The lab: a real control plane plus network namespaces as nodes, running metallb-ts.
#   bash e2e/scripts/lab.sh up [--no-build]          # real kubelets + helm install, to a working VIP
#   bash e2e/scripts/lab.sh up --processes [--no-components]   # components as host processes
#   bash e2e/scripts/lab.sh status
#   bash e2e/scripts/lab.sh down [--force]                       # removes everything it made
# Needs root (network namespaces, cgroups) and what scripts/setup.sh installs and builds.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
if [ "$(id -u)" -ne 0 ]; then
  echo "[lab] needs root (network namespaces, bridges); try: sudo bash $0 $*" >&2
  exit 1
fi
cd "$repo"
exec node --import "$repo/node_modules/tsx/dist/loader.mjs" "$repo/e2e/src/lab-cli.ts" "$@"
