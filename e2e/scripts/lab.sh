#!/usr/bin/env bash
# The lab: a real control plane plus network namespaces as nodes, running metallb-ts.
#   bash e2e/scripts/lab.sh up [--no-build] [--no-components]   # from nothing to a working VIP
#   bash e2e/scripts/lab.sh status
#   bash e2e/scripts/lab.sh down [--force]                       # removes everything it made
# Needs root (network namespaces) and the Debian packages iproute2, iputils-ping, arping,
# ndisc6, curl, openssl; Go for the first control-plane build.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
if [ "$(id -u)" -ne 0 ]; then
  echo "[lab] needs root (network namespaces, bridges); try: sudo bash $0 $*" >&2
  exit 1
fi
cd "$repo"
exec node --import "$repo/node_modules/tsx/dist/loader.mjs" "$repo/e2e/src/lab-cli.ts" "$@"
