/**
 * The command line (cli.md). Each command lives in its own file under ./commands and exports a yargs
 * CommandModule named `command`; this file only composes them, installs the stop handlers (./stop.ts:
 * Ctrl-C and SIGTERM abort the one stop signal; a second one exits 130) and maps errors to exit codes.
 */
import './wasm-tiering.js';
import yargs, { type Argv } from 'yargs';
import { hideBin } from 'yargs/helpers';
import { activeCodec } from '../codec/active.js';
import { debugEnabled } from '../config/env.js';
import { protectDashArgs, restoreDashArgs } from '../config/locations.js';
import { DrivesnapError, ExitCode, errorMessage } from '../errors.js';
import { loadCommands } from './commands/index.js';
import { deriveRepositoryKeyEarly } from './early-unlock.js';
import { Output, watchRetries } from './output.js';
import { installStopHandlers, isInterruption, stopSignal } from './stop.js';
import { TOOL_VERSION } from '../version.js';

export async function main(argv: string[]): Promise<number> {
  let exitCode: number = ExitCode.ok;
  // A lone `-` (stdin/stdout) reaches commands as `-`, not as yargs' '' (src/config/locations.ts).
  const parser = yargs(protectDashArgs(argv))
    .middleware(restoreDashArgs, true)
    .scriptName('drivesnap')
    .usage('$0 <command> [options]\n\nBack up, restore, clone and migrate cloud drives, with deduplication.')
    .option('json', { type: 'boolean', description: 'Machine-readable output: one JSON object per line' })
    .option('quiet', { alias: 'q', type: 'boolean', description: 'Print only results and errors' })
    .strict()
    .demandCommand(1, 'Name a command; `drivesnap --help` lists them.')
    .recommendCommands()
    .wrap(Math.min(110, process.stdout.columns || 110))
    .fail((msg, err) => {
      if (err) throw err;
      throw new DrivesnapError('USAGE', `${msg} (see --help)`);
    })
    .help()
    .alias('help', 'h')
    .version(TOOL_VERSION);
  const releaseStopHandlers = installStopHandlers();
  const stopWatchingRetries = watchRetries(new Output({ json: argv.includes('--json'), quiet: argv.includes('--quiet') || argv.includes('-q') }));
  try {
    // A bad DRIVESNAP_CODEC is a usage error (exit 2) before any work, not a failure part-way through.
    activeCodec();
    deriveRepositoryKeyEarly(argv);
    for (const c of await loadCommands(argv)) parser.command(c);
    skipHelpCaching(parser);
    await parser.parseAsync();
    if (typeof process.exitCode === 'number') exitCode = process.exitCode;
  } catch (err) {
    // A stop (Ctrl-C, SIGTERM) surfaces as its reason or as an AbortError: one message, exit 130.
    const stop = isInterruption(err) && stopSignal().reason instanceof DrivesnapError ? (stopSignal().reason as DrivesnapError) : undefined;
    const known = stop ?? (err instanceof DrivesnapError ? err : explainForeignError(err));
    exitCode = known?.exitCode ?? ExitCode.failure;
    const json = argv.includes('--json');
    const code = known?.code ?? 'INTERNAL';
    const message = errorMessage(known ?? err);
    if (json) process.stdout.write(JSON.stringify({ error: { code, message } }) + '\n');
    process.stderr.write(`drivesnap: ${message}\n`);
    if (debugEnabled() && err instanceof Error && err.stack) process.stderr.write(err.stack + '\n');
  } finally {
    stopWatchingRetries();
    releaseStopHandlers();
  }
  return exitCode;
}

/**
 * yargs renders the chosen command's whole help text each time it runs a command (every option through
 * string-width: ~25 ms of CPU, measured in a profile of `backup`), only so that a showHelp() called later from
 * the handler shows that command's help. Nothing here shows help after parsing (failures throw through .fail()),
 * and the render ran between a command's first I/O and its callbacks, delaying the repository's key derivation.
 * yargs has no option for it, so its one hook is emptied when present; yargs is pinned to an exact version.
 */
function skipHelpCaching(parser: Argv): void {
  type Internals = { getInternalMethods?: () => { getUsageInstance?: () => { cacheHelpMessage?: () => void } } };
  const usage = (parser as unknown as Internals).getInternalMethods?.().getUsageInstance?.();
  if (typeof usage?.cacheHelpMessage === 'function') usage.cacheHelpMessage = () => {};
}

/**
 * Errors from libraries whose own words do not say what to do. SQLite's "unable to open database file"
 * reaches here only when the index path passed the writability check and still failed (a race, a full disk).
 */
function explainForeignError(err: unknown): DrivesnapError | undefined {
  const code = (err as { code?: unknown } | null)?.code;
  if (code === 'SQLITE_CANTOPEN' || code === 'SQLITE_READONLY') {
    return new DrivesnapError(
      'INDEX_OPEN',
      `the index database cannot be opened for writing (${code}: ${errorMessage(err)}): check that the repository's ` +
        'cache directory is writable and the disk not full, or set DRIVESNAP_INDEX to a file in a writable directory',
      { cause: err },
    );
  }
  return undefined;
}

const isEntry = process.argv[1] && /drivesnap(\.js)?$|cli[\\/]main\.[jt]s$/.test(process.argv[1]);
if (isEntry) {
  main(hideBin(process.argv)).then((code) => {
    process.exitCode = code;
  });
}
