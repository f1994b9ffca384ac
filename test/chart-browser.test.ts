// The chart as a browser draws it: headless Chromium (Debian's `chromium`)
// renders the SVG and the HTML page to PNG, decoded here with node:zlib, and
// the picture must show both series in both panels and a legend. Skipped
// when chromium is not on PATH, unless CF_REQUIRE_CHROMIUM=1 (CI sets it).

import { execFile, execFileSync } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { promisify } from 'node:util'
import { inflateSync } from 'node:zlib'
import { afterAll, describe, expect, it } from 'vitest'

const browser = ['chromium', 'chromium-browser', 'google-chrome'].find((name) => {
  try {
    execFileSync('which', [name], { stdio: 'ignore' })
    return true
  } catch {
    return false
  }
})
if (!browser && process.env.CF_REQUIRE_CHROMIUM === '1') throw new Error('CF_REQUIRE_CHROMIUM=1 but no chromium on PATH (apt-get install -y chromium)')

const main = fileURLToPath(new URL('../dist/src/cli/main.js', import.meta.url))
const dir = mkdtempSync(join(tmpdir(), 'cf-chart-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))

interface Image { width: number; height: number; pixel(x: number, y: number): [number, number, number] }

/** A PNG of 8-bit RGB or RGBA, non-interlaced: what Chromium writes. */
function decodePng(png: Buffer): Image {
  expect(png.subarray(0, 8).toString('hex')).toBe('89504e470d0a1a0a')
  let offset = 8
  let width = 0
  let height = 0
  let channels = 0
  const data: Buffer[] = []
  while (offset < png.length) {
    const length = png.readUInt32BE(offset)
    const type = png.toString('latin1', offset + 4, offset + 8)
    const body = png.subarray(offset + 8, offset + 8 + length)
    if (type === 'IHDR') {
      width = body.readUInt32BE(0)
      height = body.readUInt32BE(4)
      expect(body[8]).toBe(8) // bit depth
      channels = { 2: 3, 6: 4 }[body[9]!]!
      expect(body[12]).toBe(0) // not interlaced
    } else if (type === 'IDAT') data.push(body)
    offset += 12 + length
  }
  const raw = inflateSync(Buffer.concat(data))
  const stride = width * channels
  const out = Buffer.alloc(height * stride)
  for (let y = 0; y < height; y++) {
    const filter = raw[y * (stride + 1)]!
    for (let x = 0; x < stride; x++) {
      const v = raw[y * (stride + 1) + 1 + x]!
      const a = x >= channels ? out[y * stride + x - channels]! : 0
      const b = y > 0 ? out[(y - 1) * stride + x]! : 0
      const c = x >= channels && y > 0 ? out[(y - 1) * stride + x - channels]! : 0
      const p = a + b - c
      const paeth = Math.abs(p - a) <= Math.abs(p - b) && Math.abs(p - a) <= Math.abs(p - c) ? a : Math.abs(p - b) <= Math.abs(p - c) ? b : c
      out[y * stride + x] = (v + [0, a, b, (a + b) >> 1, paeth][filter]!) & 0xff
    }
  }
  return { width, height, pixel: (x, y) => [out[y * stride + x * channels]!, out[y * stride + x * channels + 1]!, out[y * stride + x * channels + 2]!] }
}

/** Pixels in the box [x0, x1) × [y0, y1) that `match`. */
function count(image: Image, [x0, y0, x1, y1]: number[], match: (rgb: [number, number, number]) => boolean): number {
  let n = 0
  for (let y = y0!; y < Math.min(y1!, image.height); y++) for (let x = x0!; x < Math.min(x1!, image.width); x++) if (match(image.pixel(x, y))) n++
  return n
}

const near = (want: [number, number, number]) => (rgb: [number, number, number]): boolean => rgb.every((v, i) => Math.abs(v - want[i]!) < 40)
const THREAD: [number, number, number] = [0x1f, 0x77, 0xb4]
const PROCESS: [number, number, number] = [0xd6, 0x27, 0x28]
const dark = (rgb: [number, number, number]): boolean => rgb.every((v) => v < 100)
const notWhite = (rgb: [number, number, number]): boolean => rgb.some((v) => v < 240)

async function render(file: string, width: number, height: number): Promise<Image> {
  const png = join(dir, `${file}.png`)
  await promisify(execFile)(browser!, [
    '--headless', '--no-sandbox', '--disable-gpu', '--hide-scrollbars', `--user-data-dir=${join(dir, 'profile')}`,
    `--screenshot=${png}`, `--window-size=${width},${height}`, pathToFileURL(join(dir, file)).href,
  ], { timeout: 60_000 })
  return decodePng(readFileSync(png))
}

describe.skipIf(!browser)(browser ? 'the chart in a browser' : 'the chart in a browser: SKIPPED, no chromium on PATH (apt-get install -y chromium)', () => {
  it('the SVG and the HTML page draw both series in both panels, error bars and a legend', async () => {
    for (const file of ['chart.svg', 'chart.html']) {
      await promisify(execFile)(process.execPath, [main, 'bench', 'fib', '--args', '[15]', '--workers', '1,2', '--tasks', '12', '--rounds', '3', '--time-budget', '0', '--chart', join(dir, file)], { timeout: 60_000 })
    }
    const svg = readFileSync(join(dir, 'chart.svg'), 'utf8')
    for (const label of ['fib(15): pool size vs throughput and latency', 'throughput (tasks/s)', 'p99 latency (ms)', '>workers<', '>threads<', '>processes<', 'recommended: the smallest pool as fast as the best within noise', '95 % interval']) {
      expect(svg).toContain(label)
    }
    // The SVG is 840 × 340 at (0, 0) in both: the HTML page puts it first, with a body margin of 8 px.
    for (const [file, dx, dy] of [['chart.svg', 0, 0], ['chart.html', 8, 8]] as const) {
      const image = await render(file, 900, file === 'chart.svg' ? 340 : 700)
      const box = (x0: number, y0: number, x1: number, y1: number): number[] => [x0 + dx, y0 + dy, x1 + dx, y1 + dy]
      expect(count(image, box(0, 0, 840, 340), notWhite), `${file} is blank`).toBeGreaterThan(2000)
      for (const [name, panel] of [['throughput', box(60, 40, 420, 255)], ['latency', box(480, 40, 840, 255)]] as const) {
        expect(count(image, panel, near(THREAD)), `${file}: no thread series in the ${name} panel`).toBeGreaterThan(50)
        expect(count(image, panel, near(PROCESS)), `${file}: no process series in the ${name} panel`).toBeGreaterThan(50)
      }
      expect(count(image, box(0, 0, 840, 30), dark), `${file}: no title`).toBeGreaterThan(100)
      expect(count(image, box(0, 315, 840, 340), dark), `${file}: no legend text`).toBeGreaterThan(200)
      expect(count(image, box(0, 40, 58, 260), dark), `${file}: no y-axis tick labels`).toBeGreaterThan(30)
    }
  })
})
