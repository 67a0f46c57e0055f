#!/usr/bin/env bash
# Builds Prometheus and promtool (github.com/prometheus/prometheus, pinned in
# e2e/tools/prometheus/go.mod, its own module) into the control plane's binary cache, once.
# Debian's prometheus package has no Kubernetes service discovery (Debian removed it: "Kubernetes
# support has been completely removed", /usr/share/doc/prometheus/NEWS.Debian.gz), so the lab
# builds upstream's with only that discovery (`remove_all_sd,enable_kubernetes_sd`). No web UI
# assets: the HTTP API is all the lab reads. Prints where it is; a cold build takes minutes.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
tools="$here/../tools"
K8S_VERSION=$(cat "$tools/K8S_VERSION")
bin="${METALLB_TS_CACHE:-$HOME/.cache/metallb-ts}/$K8S_VERSION/bin"
MODULE_VERSION=$(sed -n 's/^\tgithub\.com\/prometheus\/prometheus \(v[^ ]*\).*/\1/p; s/^require github\.com\/prometheus\/prometheus \(v[^ ]*\).*/\1/p' "$tools/prometheus/go.mod" | head -1)
# Prometheus 3.x is module version v0.3xx.y: 3.xx.y.
VERSION=$(echo "$MODULE_VERSION" | sed -E 's/^v0\.3([0-9]{2})\.([0-9]+)$/3.\1.\2/; s/^3\.0/3./')
if [ -x "$bin/prometheus" ] && [ -x "$bin/promtool" ] && "$bin/prometheus" --version 2>/dev/null | grep -q "version $VERSION "; then
  echo "[prometheus] cached: $bin/prometheus ($VERSION)"
  exit 0
fi
command -v go >/dev/null || { echo "[prometheus] go is required to build prometheus" >&2; exit 1; }
echo "[prometheus] building prometheus and promtool $VERSION into $bin (a cold build takes several minutes)"
mkdir -p "$bin"
cd "$tools/prometheus"
export GOFLAGS=-mod=mod CGO_ENABLED=0
t0=$(date +%s)
heartbeat() { while sleep 30; do echo "[prometheus]   still building ($(( $(date +%s) - t0 ))s)"; done; }
heartbeat &
hb=$!
trap 'kill $hb 2>/dev/null || true' EXIT
ldflags="-s -w -X github.com/prometheus/common/version.Version=$VERSION -X github.com/prometheus/common/version.Branch=metallb-ts-lab"
for cmd in prometheus promtool; do
  go build -trimpath -tags remove_all_sd,enable_kubernetes_sd -ldflags "$ldflags" -o "$bin/$cmd.tmp" "github.com/prometheus/prometheus/cmd/$cmd"
done
for cmd in prometheus promtool; do mv "$bin/$cmd.tmp" "$bin/$cmd"; done
echo "[prometheus] built $bin/prometheus and $bin/promtool in $(( $(date +%s) - t0 ))s"
