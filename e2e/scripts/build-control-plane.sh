#!/usr/bin/env bash
# Builds the lab's Kubernetes parts (etcd, kube-apiserver, kube-controller-manager, kube-scheduler,
# kubectl, and for the node-mode lab kubelet and kube-proxy) from the pinned Go tools module, once per Kubernetes version. Binaries are cached
# outside the repository so every clone on this machine reuses them. Prints where it is, because
# a cold build takes many minutes on two cores.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
tools="$here/../tools"
K8S_VERSION=$(cat "$tools/K8S_VERSION")
cache="${METALLB_TS_CACHE:-$HOME/.cache/metallb-ts}/$K8S_VERSION"
bin="$cache/bin"
want=(etcd kube-apiserver kube-controller-manager kube-scheduler kubectl kubelet kube-proxy)

missing=()
for b in "${want[@]}"; do [ -x "$bin/$b" ] || missing+=("$b"); done
if [ ${#missing[@]} -eq 0 ]; then
  echo "[control-plane] cached: $bin"
  exit 0
fi

command -v go >/dev/null || { echo "[control-plane] go is required to build the control plane" >&2; exit 1; }
echo "[control-plane] building ${missing[*]} for Kubernetes $K8S_VERSION into $bin (a cold build takes 10-25 minutes)"
mkdir -p "$bin.tmp"
cd "$tools"
export GOFLAGS=-mod=mod CGO_ENABLED=0
maj=${K8S_VERSION#v}; maj=${maj%%.*}; min=${K8S_VERSION#v*.}; min=${min%%.*}
ldflags="-s -w"
for p in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
  ldflags+=" -X $p.gitVersion=$K8S_VERSION -X $p.gitMajor=$maj -X $p.gitMinor=$min -X $p.gitTreeState=clean"
done
echo "[control-plane] downloading modules"
heartbeat() { while sleep 30; do echo "[control-plane]   still $1 ($(( $(date +%s) - $2 ))s)"; done; }
heartbeat "downloading modules" "$(date +%s)" &
hb=$!
trap 'kill $hb 2>/dev/null || true' EXIT
go mod download
kill $hb 2>/dev/null || true
pkg_of() {
  case $1 in
    etcd) echo go.etcd.io/etcd/server/v3 ;;
    *) echo "k8s.io/kubernetes/cmd/$1" ;;
  esac
}
start=$(date +%s)
for b in "${missing[@]}"; do
  t0=$(date +%s)
  echo "[control-plane] go build $b ($(pkg_of "$b")) ..."
  # Heartbeat so a long compile or link is never silent.
  heartbeat "building $b" "$t0" &
  hb=$!
  if ! go build -trimpath -ldflags "$ldflags" -o "$bin.tmp/$b" "$(pkg_of "$b")"; then
    kill $hb 2>/dev/null; echo "[control-plane] build of $b failed" >&2; exit 1
  fi
  kill $hb 2>/dev/null || true
  echo "[control-plane] built $b in $(( $(date +%s) - t0 ))s"
done
mkdir -p "$bin"
for b in "${missing[@]}"; do mv "$bin.tmp/$b" "$bin/$b"; done
rmdir "$bin.tmp" 2>/dev/null || true
echo "[control-plane] done in $(( $(date +%s) - start ))s: $bin"
