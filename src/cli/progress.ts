// A one-line progress bar on stderr, drawn only on a terminal.

import type { Progress } from './sweep.js'

export function progressBar(stream: NodeJS.WriteStream = process.stderr): Progress {
  if (!stream.isTTY) return () => {}
  return (done, total, label) => {
    const width = 24
    const filled = Math.round((done / total) * width)
    stream.write(`\r[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${done}/${total} ${label}`.padEnd(60))
    if (done === total) stream.write('\r'.padEnd(61) + '\r')
  }
}
