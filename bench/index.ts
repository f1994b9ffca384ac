// npm run bench [-- threads|processes|loop|proxy|queue]: each pool beside references measured
// in this same run, medians of rounds after a warm-up.

import { benchLoop } from './loop.js'
import { timed } from './measure.js'
import { benchProxy } from './proxy.js'
import { benchProcesses } from './processes.js'
import { benchQueue } from './queue.js'
import { printTable } from './report.js'
import { benchThreads } from './threads.js'
import { inlineCpu } from './workloads.js'

const only = process.argv[2]
const sections = ['threads', 'processes', 'loop', 'proxy', 'queue']
if (only !== undefined && !sections.includes(only)) {
  console.error(`usage: npm run bench [-- ${sections.join('|')}], got ${only}`)
  process.exit(2)
}
const inlineCpuMs = await timed(3, inlineCpu)
if (only === undefined || only === 'threads') await benchThreads(inlineCpuMs)
if (only === undefined || only === 'processes') await benchProcesses(inlineCpuMs)
if (only === undefined || only === 'loop') await benchLoop()
if (only === undefined || only === 'proxy') await benchProxy()
if (only === undefined || only === 'queue') await benchQueue()
printTable()
