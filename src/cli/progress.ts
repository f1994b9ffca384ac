// A one-line progress bar on stderr, drawn only on a terminal.

import type { Progress } from './sweep.js'

export function progressBar(stream: NodeJS.WriteStream = process.stderr): Progress {
  if (!stream.isTTY) return () => {}
  return (fraction, label) => {
    const width = 24
    const filled = Math.round(Math.min(1, fraction) * width)
    stream.write(`\r[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${label}`.padEnd(60))
    if (label === 'done') stream.write('\r'.padEnd(61) + '\r')
  }
}
