#!/usr/bin/env bash
# Runs the default sweep (`npm start`) N times (default 10) and prints one line
# per run (the recommended size per executor, whether the machine was flagged
# busy and how much CPU other processes took), then a summary to paste into a
# note. On a quiet machine every run should recommend the same sizes. Each
# run's JSON is kept in a temporary folder, named at the end.
#   bench/stability.sh [N] [extra bench options...]
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-10}
shift || true
npm run build --silent
out=$(mktemp -d "${TMPDIR:-/tmp}/cf-stability.XXXXXX")
echo "bench/stability.sh $runs${*:+ $*}: $(node -v), $(node -p 'require("os").availableParallelism()') cores, $(date -u '+%Y-%m-%d %H:%M UTC'), load average $(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null || echo unknown)"
for i in $(seq 1 "$runs"); do
  start=$SECONDS
  node dist/src/cli/main.js bench --json "$@" > "$out/run-$i.json" 2>/dev/null
  node -e '
    const [file, i, seconds] = process.argv.slice(1)
    const r = JSON.parse(require("fs").readFileSync(file, "utf8"))
    const rec = Object.entries(r.recommendation).map(([kind, v]) => `${kind} ${v.workers} (equal: ${v.equalWithinNoise.join(",")})`).join("  ")
    const m = r.machine
    console.log(`run ${i.padStart(2)}: ${rec}  ${m.busy ? "BUSY" : "quiet"} (others ${(m.otherCpuShare * 100).toFixed(0)} % CPU, steal ${(m.stealShare * 100).toFixed(0)} %), ${seconds} s`)
  ' "$out/run-$i.json" "$i" "$((SECONDS - start))"
done
node -e '
  const fs = require("fs")
  const [dir, runs] = process.argv.slice(1)
  const reports = Array.from({ length: +runs }, (_, i) => JSON.parse(fs.readFileSync(`${dir}/run-${i + 1}.json`, "utf8")))
  const counts = {}
  for (const r of reports) for (const [kind, v] of Object.entries(r.recommendation)) (counts[kind] ??= {})[v.workers] = (counts[kind][v.workers] ?? 0) + 1
  const summary = Object.entries(counts).map(([kind, c]) => `${kind} ${Object.entries(c).map(([w, n]) => `${w} in ${n}/${runs}`).join(", ")}`).join("; ")
  const busy = reports.filter((r) => r.machine.busy).length
  const same = Object.values(counts).every((c) => Object.keys(c).length === 1)
  console.log(`summary: ${summary}; ${busy}/${runs} runs flagged busy; ${same ? "one recommendation per executor" : "the recommendation changed between runs"}`)
' "$out" "$runs"
echo "JSON of each run: $out"
