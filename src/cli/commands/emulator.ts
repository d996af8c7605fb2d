/**
 * `drivesnap emulator`: serves the drive API locally (src/emulator) until Ctrl-C or SIGTERM, and prints
 * `EHURI=...` and `EHAUTH=...` for the first account: the user's own local test credentials, and the one
 * place drivesnap prints a secret. Accounts come from `--account UUID:SECRET` (cli.md) or, to keep them
 * out of argv, from DRIVESNAP_EMULATOR_ACCOUNTS (comma- or space-separated).
 */
import type { Argv, CommandModule } from 'yargs';
import { type Env, processEnv } from '../../config/env.js';
import { ExitCode, UsageError } from '../../errors.js';
import { parseSize } from '../../util/size.js';
import {
  type EmulatorAccount,
  type EmulatorOptions,
  parseAccount,
  parseAccountList,
  parseBandwidth,
  parseFaultSpec,
  startEmulator,
  type WanSpec,
} from '../../emulator/index.js';
import { parseListen } from '../listen.js';
import { checkNumber, type NumberSpec, withNumbers } from '../options.js';
import { type GlobalOptions, Output } from '../output.js';
import { stopSignal } from '../stop.js';

export const ACCOUNTS_ENV = 'DRIVESNAP_EMULATOR_ACCOUNTS';

interface EmulatorArgs extends GlobalOptions {
  listen: string;
  data?: string;
  account?: string[];
  faults?: string;
  'storage-limit'?: string;
  'max-write'?: string;
  'imaging-rate'?: string;
  'shutdown-delay'?: number;
  latency?: number;
  bandwidth?: string;
}

const NUMBER_OPTIONS = {
  'shutdown-delay': { description: 'Milliseconds an ACPI shutdown takes (default 200)', min: 0 },
  latency: { description: 'Simulated WAN: milliseconds added to every request, e.g. 30', min: 0 },
} satisfies Record<string, NumberSpec>;

function sizeOption(name: string, text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const n = parseSize(text);
  if (n === undefined) throw new UsageError(`--${name} ${text}: expected a size such as 10G`);
  return n;
}

export function emulatorOptions(args: EmulatorArgs, env: Env): EmulatorOptions {
  const accounts: EmulatorAccount[] = [
    ...(args.account ?? []).map(parseAccount),
    ...parseAccountList(env[ACCOUNTS_ENV] ?? ''),
  ];
  const { host, port } = parseListen(args.listen);
  const opts: EmulatorOptions = { host, port };
  if (accounts.length > 0) opts.accounts = accounts;
  if (args.data !== undefined) opts.dataDir = args.data;
  if (args.faults !== undefined) opts.faults = parseFaultSpec(args.faults);
  const storage = sizeOption('storage-limit', args['storage-limit']);
  if (storage !== undefined) opts.storageLimitBytes = storage;
  const maxWrite = sizeOption('max-write', args['max-write']);
  if (maxWrite !== undefined) opts.maxWriteBytes = maxWrite;
  const rate = sizeOption('imaging-rate', args['imaging-rate']);
  if (rate !== undefined) opts.imagingBytesPerSec = rate;
  // Checked here too (not only by yargs) so callers of this function get the same usage errors.
  const shutdownDelay = args['shutdown-delay'];
  if (shutdownDelay !== undefined) opts.shutdownDelayMs = checkNumber('shutdown-delay', NUMBER_OPTIONS['shutdown-delay'], shutdownDelay);
  const wan: WanSpec = {};
  if (args.latency !== undefined) wan.latencyMs = checkNumber('latency', NUMBER_OPTIONS.latency, args.latency);
  if (args.bandwidth !== undefined) wan.bandwidthBytesPerSec = parseBandwidth(`--bandwidth ${args.bandwidth}`, args.bandwidth);
  if (Object.keys(wan).length > 0) opts.wan = wan;
  return opts;
}

export const command: CommandModule<GlobalOptions, EmulatorArgs> = {
  command: 'emulator',
  describe: 'Serve the drive API locally (for trying drivesnap, tests and benchmarks)',
  builder: (y: Argv<GlobalOptions>) =>
    withNumbers(y, NUMBER_OPTIONS)
      .option('listen', { type: 'string', default: '127.0.0.1:8020', description: 'HOST:PORT to listen on (port 0: any free port)' })
      .option('data', { type: 'string', description: 'Directory for drives and state (default: a temp dir removed on exit)' })
      .option('account', {
        type: 'string',
        array: true,
        description: `Account UUID:SECRET (repeatable; or ${ACCOUNTS_ENV} to keep secrets out of argv)`,
      })
      .option('faults', { type: 'string', description: 'Fault injection, e.g. busy=0.1,reset=0.05,latency=20,seed=7,calls=read+write' })
      .option('storage-limit', { type: 'string', description: 'Total size of all drives allowed, e.g. 100G' })
      .option('max-write', { type: 'string', description: 'Largest decoded write accepted (default 16M)' })
      .option('imaging-rate', { type: 'string', description: 'Imaging speed in bytes per second, e.g. 50M (default unlimited)' })
      .option('bandwidth', {
        type: 'string',
        description: 'Simulated WAN: bandwidth per account and direction, e.g. 1Gbit or 125M (bytes/s)',
      }) as Argv<EmulatorArgs>,
  handler: async (args) => {
    const out = new Output(args);
    const emulator = await startEmulator(emulatorOptions(args, processEnv()));
    const first = emulator.accounts[0]!;
    const ehuri = emulator.url;
    out.result({ ehuri, ehauth: `${first.user}:${first.secret}`, dataDir: emulator.dataDir, accounts: emulator.accounts.length },
      `EHURI=${ehuri}\nEHAUTH=${first.user}:${first.secret}`);
    process.stderr.write(`drivesnap emulator: serving ${emulator.accounts.length} account(s) from ${emulator.dataDir}; Ctrl-C stops it\n`);
    // Serves until the CLI's stop signal (Ctrl-C, SIGTERM: src/cli/stop.ts, which also owns the second
    // signal); then closes cleanly (flushes counters, removes a temporary data dir) and exits 130, as nbd.
    const signal = stopSignal();
    await new Promise<void>((resolve) => {
      if (signal.aborted) resolve();
      else signal.addEventListener('abort', () => resolve(), { once: true });
    });
    await emulator.close();
    process.exitCode = ExitCode.interrupted;
  },
};
