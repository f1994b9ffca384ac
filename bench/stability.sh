#!/usr/bin/env bash
# Runs the default sweep (`npm start`) N times (default 10) and prints each
# run's recommendation and whether the machine was busy: on a quiet machine
# every line should recommend the same sizes.
#   bench/stability.sh [N] [extra bench options...]
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-10}
shift || true
npm run build --silent
for i in $(seq 1 "$runs"); do
  node dist/src/cli/main.js bench --json "$@" 2>/dev/null | node -e '
    const r = JSON.parse(require("fs").readFileSync(0, "utf8"))
    const rec = Object.entries(r.recommendation).map(([k, v]) => `${k} ${v.workers} (${v.words})`).join("; ")
    console.log(`run ${process.argv[1]}: ${rec}${r.machine.busy ? `  [busy: ${r.machine.warnings.join("; ")}]` : ""}`)
  ' "$i"
done
