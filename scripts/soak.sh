#!/usr/bin/env bash
# The seeded chaos soak against a lab of its own (see e2e/soak/main.ts for the settings):
#   pnpm soak                                   300 steps, fresh seed (printed)
#   SOAK_SEED=123 SOAK_STEPS=40 pnpm soak       replay a run
#   SOAK_STEPS=10000 SOAK_KEEP_GOING=1 pnpm soak  the long profile
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
bash scripts/setup.sh >&2
pnpm exec turbo run build --output-logs=errors-only >&2
exec node --import tsx e2e/soak/main.ts
