// --chart: throughput and p99 latency against pool size, one line per
// executor, as a standalone SVG (or an HTML page around it).

import type { BenchOptions, ExecutorKind } from './args.js'
import { recommend } from './report.js'
import type { Point } from './sweep.js'

const COLORS: Record<ExecutorKind, string> = { thread: '#1f77b4', process: '#d62728' }
const PANEL = { width: 420, height: 260, left: 60, right: 20, top: 40, bottom: 45 }

export function toSvg(points: Point[], options: BenchOptions): string {
  const title = `${options.workload.name}(${options.workload.args.map((a) => JSON.stringify(a)).join(', ')}): pool size vs throughput and latency`
  const best = recommend(points)
  const panels = [
    panel(points, (p) => p.throughput, 'throughput (tasks/s)', 0, best),
    panel(points, (p) => p.latencyMs.p99, 'p99 latency (ms)', PANEL.width, best),
  ]
  const kinds = [...new Set(points.map((p) => p.executor))]
  const legend = kinds.map((kind, i) =>
    `<g transform="translate(${PANEL.left + i * 120},${2 * PANEL.top + PANEL.height - 10})"><line x1="0" y1="0" x2="20" y2="0" stroke="${COLORS[kind]}" stroke-width="3"/><text x="26" y="4">${kind}s</text></g>`).join('')
  const width = 2 * PANEL.width
  const height = PANEL.height + 2 * PANEL.top
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="12">
<rect width="100%" height="100%" fill="white"/>
<text x="${width / 2}" y="18" text-anchor="middle" font-size="14">${escape(title)}</text>
${panels.join('\n')}
${legend}
</svg>
`
}

export function toHtml(svg: string, table: string): string {
  return `<!doctype html><meta charset="utf-8"><title>concurrent-futures bench</title>
<body style="font-family:sans-serif">${svg}<pre>${escape(table)}</pre></body>
`
}

function panel(points: Point[], y: (p: Point) => number, label: string, x0: number, best: Partial<Record<ExecutorKind, Point>>): string {
  const workers = points.map((p) => p.workers)
  const [minX, maxX] = [Math.min(...workers), Math.max(...workers)]
  const maxY = Math.max(...points.map(y)) * 1.1 || 1
  const plotW = PANEL.width - PANEL.left - PANEL.right
  const plotH = PANEL.height - PANEL.bottom
  const sx = (w: number): number => x0 + PANEL.left + (maxX === minX ? plotW / 2 : ((w - minX) / (maxX - minX)) * plotW)
  const sy = (v: number): number => PANEL.top + plotH - (v / maxY) * plotH
  const parts = [
    `<line x1="${sx(minX) - 5}" y1="${sy(0)}" x2="${x0 + PANEL.left + plotW}" y2="${sy(0)}" stroke="#888"/>`,
    `<line x1="${x0 + PANEL.left}" y1="${PANEL.top}" x2="${x0 + PANEL.left}" y2="${sy(0)}" stroke="#888"/>`,
    `<text x="${x0 + PANEL.left + plotW / 2}" y="${PANEL.top + plotH + 32}" text-anchor="middle">workers</text>`,
    `<text x="${x0 + PANEL.left}" y="${PANEL.top - 8}">${escape(label)}</text>`,
  ]
  for (const w of new Set(workers)) parts.push(`<text x="${sx(w)}" y="${sy(0) + 16}" text-anchor="middle">${w}</text>`)
  for (const tick of [0.25, 0.5, 0.75, 1].map((f) => (maxY / 1.1) * f)) {
    parts.push(`<text x="${x0 + PANEL.left - 6}" y="${sy(tick) + 4}" text-anchor="end">${format(tick)}</text>`)
    parts.push(`<line x1="${x0 + PANEL.left}" y1="${sy(tick)}" x2="${x0 + PANEL.left + plotW}" y2="${sy(tick)}" stroke="#eee"/>`)
  }
  for (const kind of new Set(points.map((p) => p.executor))) {
    const series = points.filter((p) => p.executor === kind)
    const path = series.map((p) => `${sx(p.workers).toFixed(1)},${sy(y(p)).toFixed(1)}`).join(' ')
    parts.push(`<polyline class="series" data-executor="${kind}" fill="none" stroke="${COLORS[kind]}" stroke-width="2" points="${path}"/>`)
    for (const p of series) {
      const chosen = best[kind] === p
      parts.push(`<circle cx="${sx(p.workers).toFixed(1)}" cy="${sy(y(p)).toFixed(1)}" r="${chosen ? 6 : 3}" fill="${chosen ? 'white' : COLORS[kind]}" stroke="${COLORS[kind]}" stroke-width="2"><title>${kind} × ${p.workers}: ${format(y(p))}${chosen ? ' (recommended)' : ''}</title></circle>`)
    }
  }
  return `<g>${parts.join('')}</g>`
}

function format(v: number): string {
  return v >= 1000 ? `${(v / 1000).toFixed(1)}k` : v >= 10 ? v.toFixed(0) : v.toFixed(2)
}

function escape(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;')
}
