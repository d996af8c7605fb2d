/**
 * Every command of the CLI, in the order `--help` lists them. Each module exports `command`. Modules are
 * loaded on demand: a run of one command imports only that command's code (the S3 SDK, the emulator, the
 * job-file schema... stay unloaded), which keeps start-up fast and peak memory low.
 */
import type { CommandModule } from 'yargs';

// biome-ignore lint/suspicious/noExplicitAny: yargs command modules differ in their argument types
type AnyCommand = CommandModule<any, any>;

const loaders: [name: string, load: () => Promise<{ command: AnyCommand }>][] = [
  ['init', () => import('./init.js')],
  ['backup', () => import('./backup.js')],
  ['snapshots', () => import('./snapshots.js')],
  ['restore', () => import('./restore.js')],
  ['nbd', () => import('./nbd.js')],
  ['copy', () => import('./copy.js')],
  ['clone', () => import('./clone.js')],
  ['migrate-server', () => import('./migrate-server.js')],
  ['forget', () => import('./forget.js')],
  ['prune', () => import('./prune.js')],
  ['check', () => import('./check.js')],
  ['diff', () => import('./diff.js')],
  ['stats', () => import('./stats.js')],
  ['run', () => import('./run.js')],
  ['drives', () => import('./drives.js')],
  ['key', () => import('./key.js')],
  ['index', () => import('./index-cmd.js')],
  ['unlock', () => import('./unlock.js')],
  ['cat', () => import('./cat.js')],
  ['emulator', () => import('./emulator.js')],
  ['benchmark', () => import('./benchmark.js')],
];

export const commandNames = loaders.map(([name]) => name);

/** The commands `argv` needs: the one it names, none for a bare --version, or all of them (for help and suggestions). */
export async function loadCommands(argv: string[]): Promise<AnyCommand[]> {
  const first = argv.find((a) => !a.startsWith('-'));
  if (first === undefined && argv.includes('--version') && !argv.includes('--help') && !argv.includes('-h')) return [];
  const named = loaders.filter(([name]) => name === first);
  const wanted = named.length === 1 ? named : loaders;
  return Promise.all(wanted.map(async ([, load]) => (await load()).command));
}
