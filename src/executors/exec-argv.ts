// Which of this process's Node flags a pool's workers inherit. Node hands a
// Worker or a forked child the parent's execArgv unexamined, and some flags
// only make sense for the process they were given to: they select its entry
// (`-e`, `--input-type`, `--test`, ...), or they claim something only one
// process can hold (the inspector's port). The rule, per family:
//
// - dropped everywhere: `--input-type`, `-e`/`--eval`, `-p`/`--print`,
//   `--test*` (and `--experimental-test-*`), `--watch*`, `--check`/`-c`,
//   `-i`/`--interactive`, `--run`, with their values;
// - a child gets a free inspector port (`--inspect=0`, `--inspect-port=0`,
//   keeping the host) instead of the parent's, and never stops at start
//   (`--inspect-brk`/`--inspect-wait` become `--inspect`);
// - a thread shares its process's inspector, V8 and per-process settings, so
//   it gets none of those flags (Node's Worker refuses them);
// - everything else is kept: loaders, `--import`/`--require`/`-r`,
//   `--conditions`/`-C`, `--experimental-*`, memory flags, unknown flags.
//
// An explicit `execArgv` option is used as given: that is asking.


export type FlagFamily = 'thread' | 'process'

/** Flags that take a value, which may come as the next argument. */
const TAKES_VALUE = new Set([
  '--input-type', '--eval', '-e', '--print', '-p', '-pe', '--run',
  '--test-reporter', '--test-reporter-destination', '--test-name-pattern', '--test-skip-pattern', '--test-concurrency',
  '--test-timeout', '--test-shard', '--test-coverage-include', '--test-coverage-exclude', '--test-coverage-branches',
  '--test-coverage-functions', '--test-coverage-lines', '--test-isolation', '--test-global-setup',
  '--watch-path', '--watch-kill-signal',
  '--inspect-port', '--debug-port',
  '--require', '-r', '--import', '--loader', '--experimental-loader', '--conditions', '-C', '--title',
  '--icu-data-dir', '--openssl-config', '--tls-cipher-list', '--secure-heap', '--secure-heap-min',
  '--trace-event-categories', '--trace-event-file-pattern',
])

/** Flags that select or shape the process's own entry: meaningless for a pool's worker. */
const ENTRY = new Set(['--input-type', '--eval', '-e', '--print', '-p', '-pe', '--check', '-c', '--interactive', '-i', '--run'])
const ENTRY_PREFIXES = ['--test', '--experimental-test-', '--watch']

/** Inspector flags that start it (and, for brk/wait, stop before the entry runs). */
const INSPECT = new Set(['--inspect', '--inspect-brk', '--inspect-wait', '--inspect-brk-node'])
const INSPECT_PORT = new Set(['--inspect-port', '--debug-port'])

/** Settings of the whole process (and V8's): a Worker refuses them, and they already apply to it. */
const PER_PROCESS = new Set([
  '--max-old-space-size', '--max-semi-space-size', '--max-young-generation-size', '--stack-size', '--expose-gc', '--expose_gc',
  '--title', '--v8-pool-size', '--zero-fill-buffers', '--disable-proto', '--jitless', '--prof', '--abort-on-uncaught-exception',
  '--interpreted-frames-native-stack', '--huge-max-old-generation-size', '--disallow-code-generation-from-strings',
  '--use-openssl-ca', '--use-bundled-ca', '--enable-fips', '--force-fips', '--icu-data-dir', '--snapshot-blob',
  '--build-snapshot', '--permission', '--secure-heap', '--secure-heap-min', '--openssl-config', '--openssl-legacy-provider',
  '--openssl-shared-config', '--node-memory-debug', '--debug-arraybuffer-allocations', '--inspect-publish-uid',
])
const PER_PROCESS_PREFIXES = ['--perf-', '--tls-', '--trace-event-']

/** One flag as it appears in execArgv: its name, and its value inline (`=v`) or as the next argument. */
interface Flag {
  name: string
  value: string | undefined
  tokens: string[]
}

/** The flags a pool's workers of `family` inherit from `argv` (this process's execArgv, by default). */
export function inheritedFlags(family: FlagFamily, argv: readonly string[] = process.execArgv): string[] {
  const out: string[] = []
  for (const flag of parse(argv)) {
    const { name } = flag
    if (ENTRY.has(name) || ENTRY_PREFIXES.some((p) => name.startsWith(p))) continue
    const inspector = INSPECT.has(name) || INSPECT_PORT.has(name)
    if (family === 'thread') {
      if (inspector || PER_PROCESS.has(name) || PER_PROCESS_PREFIXES.some((p) => name.startsWith(p))) continue
      out.push(...flag.tokens)
    } else if (inspector) {
      const host = hostOf(flag.value)
      out.push(`${INSPECT.has(name) ? '--inspect' : '--inspect-port'}=${host === undefined ? '' : `${host}:`}0`)
    } else {
      out.push(...flag.tokens)
    }
  }
  return out
}

function* parse(argv: readonly string[]): Generator<Flag> {
  for (let i = 0; i < argv.length; i++) {
    const token = argv[i]!
    const eq = token.startsWith('--') ? token.indexOf('=') : -1
    const name = eq === -1 ? token : token.slice(0, eq)
    if (eq !== -1) yield { name, value: token.slice(eq + 1), tokens: [token] }
    else if (TAKES_VALUE.has(name) && i + 1 < argv.length) yield { name, value: argv[i + 1], tokens: [token, argv[++i]!] }
    else yield { name, value: undefined, tokens: [token] }
  }
}

/** The host part of an inspector address (`[host:]port`, or a host alone), if any. */
function hostOf(address: string | undefined): string | undefined {
  if (address === undefined || /^\d+$/.test(address)) return undefined
  const colon = address.lastIndexOf(':')
  // A bracketed IPv6 host, alone or with a port; else host:port, or a host alone.
  if (address.startsWith('[')) return address.slice(0, address.indexOf(']') + 1)
  return colon !== -1 && /^\d+$/.test(address.slice(colon + 1)) ? address.slice(0, colon) : address
}
