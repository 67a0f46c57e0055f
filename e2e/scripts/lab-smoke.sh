#!/usr/bin/env bash
# The README's lab command, checked as a user would: `up` from nothing must print a curl line that
# answers from the announcing node (its name, or `<pod> on <node>` from a backend pod), and `down`
# must leave no namespace, link, process, container, mount or cgroup.
#   bash e2e/scripts/lab-smoke.sh [--no-build]
# Exit 0 when all of that holds; otherwise prints what it saw and exits 1.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
cd "$repo"
out=$(mktemp)
fail() {
  echo "[lab-smoke] FAILED: $*"
  echo "[lab-smoke] --- what lab up printed ---"
  cat "$out"
  echo "[lab-smoke] --- namespaces ---"; ip netns list
  echo "[lab-smoke] --- links ---"; ip -br link
  bash scripts/lab.sh down --force >/dev/null 2>&1
  rm -f "$out"
  exit 1
}

if [ "${1:-}" = --no-build ]; then
  up=(bash e2e/scripts/lab.sh up --no-build)
else
  up=(bash scripts/lab.sh up)
fi
echo "[lab-smoke] ${up[*]}"
# Bounded: a hung `up` is a failure, not a stuck CI.
timeout 600 "${up[@]}" >"$out" 2>&1 || fail "lab up exited with $?"

try=$(sed -n 's/^  try: *//p' "$out")
node=$(sed -n 's/^  announced by: *\(node-[0-9]*\).*/\1/p' "$out")
[ -n "$try" ] || fail "no 'try:' line"
[ -n "$node" ] || fail "no 'announced by: node-N' line"
echo "[lab-smoke] running the printed line: $try"
# The printed line is ours (`ip netns exec client curl -s http://<vip>/`); run exactly it.
answer=$(timeout 10 bash -c "$try" 2>&1) || fail "the curl line failed: $answer"
case "$answer" in
  "$node" | *" on $node") ;;
  *) fail "the curl line answered '$answer', expected the announcing node '$node'" ;;
esac
echo "[lab-smoke] the VIP answered with '$answer', from the announcing node"

timeout 120 bash scripts/lab.sh down >>"$out" 2>&1 || fail "lab down exited with $?"
left=$(ip netns list | grep -Ew '^(node-[0-9]+|client)' || true)
[ -z "$left" ] || fail "namespaces left after down: $left"
links=$(ip -br link | grep -E '^mlb' || true)
[ -z "$links" ] || fail "links left after down: $links"
# Living processes only: a just-killed child may show as a zombie until it is reaped. A process
# whose /tmp is another filesystem than ours belongs to a lab in a sandbox of its own
# (scripts/sandbox.sh, e.g. the long soak), not to this one.
our_tmp=$(stat -c %d /tmp)
procs=$(ps -eo stat=,pid=,args= | awk '$1 !~ /^Z/' |
  grep -E 'metallb-ts|kube-apiserver|kube-controller-manager|kube-scheduler|kubelet|kube-proxy|containerd|docker-registry|etcd --name' |
  grep -v -e lab-smoke -e grep |
  while read -r stat pid args; do
    [ "$(stat -L -c %d "/proc/$pid/root/tmp" 2>/dev/null || echo "$our_tmp")" = "$our_tmp" ] &&
      echo "$stat $pid $args"
  done || true)
[ -z "$procs" ] || fail "processes left after down: $procs"
mounts=$(grep -E 'metallb-ts-lab' /proc/self/mountinfo || true)
[ -z "$mounts" ] || fail "mounts left after down: $mounts"
cgroups=$(ls -d /sys/fs/cgroup/*/metallb-ts-lab-* 2>/dev/null || true)
[ -z "$cgroups" ] || fail "cgroups left after down: $cgroups"
echo "[lab-smoke] down left no namespace, link, process, mount or cgroup"
rm -f "$out"
