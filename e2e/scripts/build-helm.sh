#!/usr/bin/env bash
# Builds helm (helm.sh/helm/v3, pinned in e2e/tools/helm/go.mod, its own module so the control
# plane's module graph stays as it is) into the control plane's binary cache, once. Prints where
# it is: a cold build takes minutes on two cores.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
tools="$here/../tools"
K8S_VERSION=$(cat "$tools/K8S_VERSION")
bin="${METALLB_TS_CACHE:-$HOME/.cache/metallb-ts}/$K8S_VERSION/bin"
HELM_VERSION=$(sed -n 's/^\thelm\.sh\/helm\/v3 \(v[^ ]*\).*/\1/p' "$tools/helm/go.mod")
if [ -x "$bin/helm" ] && "$bin/helm" version --template '{{.Version}}' 2>/dev/null | grep -qx "$HELM_VERSION"; then
  echo "[helm] cached: $bin/helm ($HELM_VERSION)"
  exit 0
fi
command -v go >/dev/null || { echo "[helm] go is required to build helm" >&2; exit 1; }
echo "[helm] building helm $HELM_VERSION into $bin (a cold build takes a few minutes)"
mkdir -p "$bin"
cd "$tools/helm"
export GOFLAGS=-mod=mod CGO_ENABLED=0
t0=$(date +%s)
heartbeat() { while sleep 30; do echo "[helm]   still building ($(( $(date +%s) - t0 ))s)"; done; }
heartbeat &
hb=$!
trap 'kill $hb 2>/dev/null || true' EXIT
ldflags="-s -w -X helm.sh/helm/v3/internal/version.version=$HELM_VERSION"
go build -trimpath -ldflags "$ldflags" -o "$bin/helm.tmp" helm.sh/helm/v3/cmd/helm
mv "$bin/helm.tmp" "$bin/helm"
echo "[helm] built $bin/helm in $(( $(date +%s) - t0 ))s"
