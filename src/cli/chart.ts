// --chart: throughput and p99 latency against pool size, one line per
// executor, with each point's 95 % interval as an error bar, as a standalone
// SVG (or an HTML page around it).

import type { BenchOptions, ExecutorKind } from './args.js'
import { recommend } from './report.js'
import type { Estimate } from './stats.js'
import type { Point } from './sweep.js'

const COLORS: Record<ExecutorKind, string> = { thread: '#1f77b4', process: '#d62728' }
const NAMES: Record<ExecutorKind, string> = { thread: 'threads', process: 'processes' }
const PANEL = { width: 420, height: 260, left: 60, right: 20, top: 40, bottom: 45 }

export function toSvg(all: Point[], options: BenchOptions): string {
  const points = all.filter((p) => !p.autoscale) // a comparison in the table, not a pool size on the axis
  const title = `${options.workload.name}(${options.workload.args.map((a) => JSON.stringify(a)).join(', ')}): pool size vs throughput and latency`
  const chosen = new Set(Object.values(recommend(points)).map((r) => r.point))
  const panels = [
    panel(points, (p) => p.throughput, 'throughput (tasks/s)', 0, chosen),
    panel(points, (p) => p.latencyMs.p99, 'p99 latency (ms)', PANEL.width, chosen),
  ]
  const kinds = [...new Set(points.map((p) => p.executor))]
  const y = 2 * PANEL.top + PANEL.height - 10
  const at = (x: number, body: string): string => `<g class="legend" transform="translate(${x},${y})">${body}</g>`
  const legend = [
    ...kinds.map((kind, i) => at(PANEL.left + i * 100, `<line x1="0" y1="0" x2="20" y2="0" stroke="${COLORS[kind]}" stroke-width="3"/><text x="26" y="4">${NAMES[kind]}</text>`)),
    at(PANEL.left + kinds.length * 100, '<circle cx="6" cy="0" r="6" fill="white" stroke="#444" stroke-width="2"/><text x="18" y="4">recommended: the smallest pool as fast as the best within noise</text>'),
    at(PANEL.left + kinds.length * 100 + 390, '<path d="M4,-6V6M0,-6h8M0,6h8" stroke="#444"/><text x="14" y="4">95 % interval</text>'),
  ]
  const width = 2 * PANEL.width
  const height = PANEL.height + 2 * PANEL.top
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="12">
<rect width="100%" height="100%" fill="white"/>
<text x="${width / 2}" y="18" text-anchor="middle" font-size="14">${escape(title)}</text>
${panels.join('\n')}
${legend.join('')}
</svg>
`
}

export function toHtml(svg: string, table: string): string {
  return `<!doctype html><meta charset="utf-8"><title>concurrent-futures bench</title>
<body style="font-family:sans-serif">${svg}<pre>${escape(table)}</pre></body>
`
}

function panel(points: Point[], y: (p: Point) => Estimate, label: string, x0: number, chosen: Set<Point>): string {
  const workers = points.map((p) => p.workers)
  const [minX, maxX] = [Math.min(...workers), Math.max(...workers)]
  const ticks = roundTicks(Math.max(...points.map((p) => y(p).high)))
  const maxY = ticks.at(-1)!
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
  for (const tick of ticks) {
    parts.push(`<text class="tick" x="${x0 + PANEL.left - 6}" y="${sy(tick) + 4}" text-anchor="end">${format(tick)}</text>`)
    if (tick > 0) parts.push(`<line x1="${x0 + PANEL.left}" y1="${sy(tick)}" x2="${x0 + PANEL.left + plotW}" y2="${sy(tick)}" stroke="#eee"/>`)
  }
  for (const kind of new Set(points.map((p) => p.executor))) {
    const series = points.filter((p) => p.executor === kind)
    const path = series.map((p) => `${sx(p.workers).toFixed(1)},${sy(y(p).median).toFixed(1)}`).join(' ')
    parts.push(`<polyline class="series" data-executor="${kind}" fill="none" stroke="${COLORS[kind]}" stroke-width="2" points="${path}"/>`)
    for (const p of series) {
      const e = y(p)
      const [cx, top, bottom] = [sx(p.workers), sy(e.high), sy(e.low)].map((v) => v.toFixed(1))
      parts.push(`<path class="interval" d="M${cx},${top}V${bottom}M${+cx! - 4},${top}h8M${+cx! - 4},${bottom}h8" stroke="${COLORS[kind]}" stroke-width="1.5"/>`)
      const mark = chosen.has(p)
      parts.push(`<circle cx="${cx}" cy="${sy(e.median).toFixed(1)}" r="${mark ? 6 : 3}" fill="${mark ? 'white' : COLORS[kind]}" stroke="${COLORS[kind]}" stroke-width="2"><title>${NAMES[kind]} × ${p.workers}: ${format(e.median)} (${format(e.low)} to ${format(e.high)})${mark ? ', recommended' : ''}</title></circle>`)
    }
  }
  return `<g>${parts.join('')}</g>`
}

/** 0, then round steps (1, 2, 2.5 or 5 × a power of ten) up to the first at or above `max`. */
export function roundTicks(max: number): number[] {
  if (!(max > 0)) return [0, 1]
  const raw = max / 4
  const power = 10 ** Math.floor(Math.log10(raw))
  const step = [1, 2, 2.5, 5, 10].map((m) => +(m * power).toPrecision(12)).find((s) => s >= raw)!
  const ticks = [0]
  while (ticks.at(-1)! < max) ticks.push(+(ticks.length * step).toPrecision(12))
  return ticks
}

function format(v: number): string {
  return v >= 1000 ? `${+(v / 1000).toFixed(1)}k` : v >= 10 || v === 0 ? v.toFixed(0) : +v.toFixed(2) + ''
}

function escape(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;')
}
