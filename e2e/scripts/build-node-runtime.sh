#!/usr/bin/env bash
# Builds the node-mode lab's container runtime (containerd v2, its runc shim and ctr) from the
# pinned module in e2e/tools/containerd, once per containerd version, cached outside the
# repository like the control plane. runc, the CNI plugins and the registry are Debian packages
# (scripts/setup.sh). Prints where it is, because a cold build takes minutes on two cores.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
mod="$here/../tools/containerd"
version=$(awk '$1 == "github.com/containerd/containerd/v2" {print $2; exit}' "$mod/go.mod")
[ -n "$version" ] || { echo "[node-runtime] no containerd version in $mod/go.mod" >&2; exit 1; }
bin="${METALLB_TS_CACHE:-$HOME/.cache/metallb-ts}/containerd-$version/bin"
want=(containerd containerd-shim-runc-v2 ctr)
missing=()
for b in "${want[@]}"; do [ -x "$bin/$b" ] || missing+=("$b"); done
if [ ${#missing[@]} -eq 0 ]; then
  echo "[node-runtime] cached: $bin"
  exit 0
fi
command -v go >/dev/null || { echo "[node-runtime] go is required to build containerd" >&2; exit 1; }
echo "[node-runtime] building ${missing[*]} (containerd $version) into $bin (a cold build takes 3-8 minutes)"
cd "$mod"
# Static binaries: no cgo, so the snapshotters that need it (btrfs, devmapper) are left out; the
# lab uses overlayfs or the native snapshotter.
export GOFLAGS=-mod=mod CGO_ENABLED=0
tags="no_btrfs no_devmapper no_zfs"
ldflags="-s -w -X github.com/containerd/containerd/v2/version.Version=$version"
heartbeat() { while sleep 30; do echo "[node-runtime]   still $1 ($(( $(date +%s) - $2 ))s)"; done; }
mkdir -p "$bin.tmp"
start=$(date +%s)
for b in "${missing[@]}"; do
  t0=$(date +%s)
  echo "[node-runtime] go build $b ..."
  heartbeat "building $b" "$t0" &
  hb=$!
  if ! go build -trimpath -tags "$tags" -ldflags "$ldflags" -o "$bin.tmp/$b" "github.com/containerd/containerd/v2/cmd/$b"; then
    kill $hb 2>/dev/null; echo "[node-runtime] build of $b failed" >&2; exit 1
  fi
  kill $hb 2>/dev/null || true
  echo "[node-runtime] built $b in $(( $(date +%s) - t0 ))s"
done
mkdir -p "$bin"
for b in "${missing[@]}"; do mv "$bin.tmp/$b" "$bin/$b"; done
rmdir "$bin.tmp" 2>/dev/null || true
echo "[node-runtime] done in $(( $(date +%s) - start ))s: $bin"
