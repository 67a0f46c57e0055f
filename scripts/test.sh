#!/usr/bin/env bash
# The whole test suite, from a fresh machine: set-up, build, typecheck, lint, unit tests, the e2e
# tests against a real control plane and network namespaces, the cluster tests on real kubelets
# (helm install from our images), and the README's lab command (needs root).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
start=$(date +%s)
step() { echo; echo "=== [$(( $(date +%s) - start ))s] $*"; }

step "set-up"
bash scripts/setup.sh
step "build"
pnpm exec turbo run build --output-logs=errors-only
# Typecheck and lint failures fail the run, but the tests still run so one run shows everything.
status=0
step "typecheck"
pnpm exec turbo run typecheck --output-logs=errors-only || { status=1; echo "=== typecheck FAILED"; }
step "lint"
{ pnpm exec eslint --max-warnings=0 . && pnpm exec prettier --check . --log-level warn; } || { status=1; echo "=== lint FAILED"; }

results=$(mktemp -d)
trap 'rm -rf "$results"' EXIT
step "unit tests"
node --experimental-vm-modules node_modules/jest/bin/jest.js --selectProjects unit \
  --json --outputFile="$results/unit.json" || status=1
step "e2e tests (real kube-apiserver + network namespaces)"
node --experimental-vm-modules node_modules/jest/bin/jest.js --selectProjects e2e --runInBand \
  --json --outputFile="$results/e2e.json" || status=1
step "images: ours (bundles, buildah) and the lab's own (pause, echo)"
images_ok=1
{ pnpm images && bash e2e/scripts/build-lab-images.sh >/dev/null; } || { images_ok=0; status=1; echo "=== images FAILED"; }
step "cluster tests (real kubelets, containerd, a registry, helm install)"
if [ $images_ok = 1 ]; then
  node --experimental-vm-modules node_modules/jest/bin/jest.js --selectProjects cluster --runInBand \
    --json --outputFile="$results/cluster.json" || status=1
else
  echo '{"numPassedTests":0,"numFailedTests":1,"numRuntimeErrorTestSuites":0,"testResults":[{"name":"e2e/cluster","status":"failed","message":"not run: the images did not build (=== images FAILED above)","assertionResults":[]}]}' >"$results/cluster.json"
fi
step "lab command (README): up prints a working curl line, down leaves nothing"
if bash e2e/scripts/lab-smoke.sh; then smoke='{"numPassedTests":1,"numFailedTests":0,"numRuntimeErrorTestSuites":0}'
else smoke='{"numPassedTests":0,"numFailedTests":1,"numRuntimeErrorTestSuites":0,"testResults":[{"name":"e2e/scripts/lab-smoke.sh","status":"failed","message":"the README lab command failed: its [lab-smoke] lines above say where","assertionResults":[]}]}'; status=1; fi
echo "$smoke" >"$results/lab-smoke.json"

node scripts/test-summary.mjs "$results/unit.json" "$results/e2e.json" "$results/cluster.json" "$results/lab-smoke.json"
echo "=== finished in $(( $(date +%s) - start ))s"
exit $status
