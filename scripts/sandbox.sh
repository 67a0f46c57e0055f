#!/usr/bin/env bash
# Runs a command in a network and mount namespace of its own, so a second lab (the long soak, a
# benchmark) can run beside the machine's lab. What makes the lab one per machine is all here made
# the sandbox's own: the namespace names (/run/netns), bridges, addresses and fixed ports (a fresh
# network namespace), the owner file and lab folders (a fresh /tmp). Nothing of it reaches the
# machine's network: the sandbox has only its loopback and what the lab builds inside it, and it all
# goes when the command ends.
#   bash scripts/sandbox.sh node --import tsx e2e/bench/soak.bench.ts
# It has no uplink, so set-up and build run outside first (scripts/bench.sh and friends do).
# SANDBOX_KEEP=<dir>: copy the sandbox's /tmp there at the end (the lab's logs).
set -euo pipefail
[ "$(id -u)" = 0 ] || { echo "sandbox: needs root (network and mount namespaces)" >&2; exit 1; }
[ $# -gt 0 ] || { echo "usage: scripts/sandbox.sh <command> [args...]" >&2; exit 2; }
exec unshare --mount --net --propagation private -- bash -c '
  set -euo pipefail
  mount -t tmpfs -o mode=1777 metallb-ts-sandbox /tmp
  mkdir -p /run/netns
  mount -t tmpfs metallb-ts-sandbox /run/netns
  mount -t sysfs metallb-ts-sandbox /sys
  ip link set lo up
  echo "sandbox: own network and mount namespace (pid $$)" >&2
  rc=0
  "$@" || rc=$?
  if [ -n "${SANDBOX_KEEP:-}" ]; then mkdir -p "$SANDBOX_KEEP" && cp -a /tmp/. "$SANDBOX_KEEP/" || true; fi
  exit $rc' metallb-ts-sandbox "$@"
