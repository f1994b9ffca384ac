// The benchmark's table: every row is ours beside a reference measured in the same run.

const rows: string[][] = []

const fmt = (v: number): string => (v >= 100 ? Math.round(v).toLocaleString('en') : v.toFixed(2))

/** The ratio is always ours ÷ reference. */
export function row(name: string, ours: number, reference: number, refName: string, unit: string, target: string): void {
  rows.push([name, `${fmt(ours)} ${unit}`, `${fmt(reference)} ${unit} (${refName})`, `${(ours / reference).toFixed(2)}×`, target])
  console.error(`  ${name}: ${fmt(ours)} vs ${fmt(reference)} ${unit}`)
}

/** A row whose reference could not be measured here, and why. */
export function skipped(name: string, why: string): void {
  rows.push([name, '–', `– (${why})`, '–', '–'])
  console.error(`  ${name}: skipped, ${why}`)
}

/** The table of the rows recorded; nothing when no section recorded any (the queue section prints its own). */
export function printTable(): void {
  if (rows.length === 0) return
  console.log('| benchmark | concurrent-futures | reference (same run) | ratio | target |')
  console.log('|---|---|---|---|---|')
  for (const r of rows) console.log(`| ${r.join(' | ')} |`)
}

export const perSecond = (ms: number, n: number): number => (n / ms) * 1000
export const microsEach = (ms: number, n: number): number => (ms / n) * 1000
