// npm run bench [-- threads|processes]: each pool beside references measured
// in this same run, medians of rounds after a warm-up.

import { timed } from './measure.js'
import { benchProcesses } from './processes.js'
import { printTable } from './report.js'
import { benchThreads } from './threads.js'
import { inlineCpu } from './workloads.js'

const only = process.argv[2]
if (only !== undefined && only !== 'threads' && only !== 'processes') {
  console.error(`usage: npm run bench [-- threads|processes], got ${only}`)
  process.exit(2)
}
const inlineCpuMs = await timed(3, inlineCpu)
if (only !== 'processes') await benchThreads(inlineCpuMs)
if (only !== 'threads') await benchProcesses(inlineCpuMs)
printTable()
