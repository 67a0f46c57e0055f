#!/usr/bin/env bash
# Everything a fresh machine needs before the lab or the tests: Debian packages, pnpm, the
# workspace's npm dependencies (pcap builds natively against libpcap) and the Go-built control
# plane. Idempotent: each step is skipped when already done, and says so.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
say() { echo "[setup] $*"; }

apt_packages=(iproute2 iputils-ping arping ndisc6 tcpdump tshark libpcap-dev curl openssl build-essential python3 psmisc prometheus buildah docker-registry skopeo runc conntrack containernetworking-plugins iptables util-linux)
missing=()
for p in "${apt_packages[@]}"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
if [ ${#missing[@]} -gt 0 ]; then
  [ "$(id -u)" = 0 ] || { echo "[setup] need root to install: ${missing[*]}" >&2; exit 1; }
  say "installing Debian packages: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
else
  say "Debian packages present"
fi

pnpm_version=$(node -p "require('./package.json').packageManager.split('@')[1]")
if [ "$(pnpm --version 2>/dev/null || true)" != "$pnpm_version" ]; then
  say "installing pnpm $pnpm_version"
  npm install -g "pnpm@$pnpm_version" >/dev/null
fi

# node-gyp would otherwise try to download Node headers, which this network cannot reach.
if [ -f /usr/include/node/node.h ] && [ -z "${npm_config_nodedir:-}" ]; then export npm_config_nodedir=/usr; fi
say "pnpm install"
pnpm install --frozen-lockfile --reporter=append-only 2>&1 | grep -vE '^(Progress|Packages:)' || true
[ -d node_modules/.pnpm ] || { echo "[setup] pnpm install failed" >&2; exit 1; }

bash e2e/scripts/build-control-plane.sh
bash e2e/scripts/build-helm.sh
bash e2e/scripts/build-node-runtime.sh
bash e2e/scripts/build-prometheus.sh
say "ready"
