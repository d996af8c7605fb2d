/**
 * `drivesnap nbd SNAPSHOT...`: serves snapshots read-only over the Network Block Device protocol, fetched
 * lazily from the repository, until SIGINT/SIGTERM. Each export is named by its snapshot id; the first is
 * also the default export. A Unix socket by default (in a private directory, mode 0600), TCP only on an
 * address the user gives. The repository's shared lock is held throughout, so no prune deletes what is read.
 */
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { isIP } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { CommandModule } from 'yargs';
import { snapshotDriveSelector } from '../../config/locations.js';
import { DrivesnapError, ExitCode, UsageError } from '../../errors.js';
import { ChunkCache } from '../../nbd/chunk-cache.js';
import { snapshotExports } from '../../nbd/repository-exports.js';
import { type ListenAddress, NbdServer } from '../../nbd/server.js';
import { formatBytes, parseSize } from '../../util/size.js';
import { parseListen } from '../listen.js';
import { Output } from '../output.js';
import { onStop, type StopCause } from '../stop.js';
import { type RepoArgs, withRepoOptions, withRepository } from '../repo-context.js';

interface NbdArgs extends RepoArgs {
  snapshot: string[];
  drive?: string;
  socket?: string;
  listen?: string;
  'cache-size': string;
  'read-ahead': number;
}

export const command: CommandModule<object, NbdArgs> = {
  command: 'nbd <snapshot..>',
  describe: 'Serve snapshots read-only over NBD (nbdcopy, nbdfuse, qemu, the kernel driver), fetched lazily',
  builder: (y) =>
    withRepoOptions(y)
      .positional('snapshot', { type: 'string', array: true, demandOption: true, description: 'Snapshot ids, unique prefixes, or latest' })
      .option('drive', { type: 'string', description: 'With latest: the drive whose latest snapshot to serve' })
      .option('socket', { type: 'string', description: 'Unix socket to listen on (default: a new one in a private temp directory)' })
      .option('listen', { type: 'string', description: 'Listen on TCP HOST:PORT instead (unencrypted, no authentication: keep it on trusted hosts)' })
      .option('cache-size', { type: 'string', default: '128M', description: 'Memory for inflated chunks, e.g. 1G' })
      .option('read-ahead', { type: 'number', default: 4, description: 'Chunks fetched ahead of a sequential reader' })
      .conflicts('socket', 'listen') as never,
  handler: async (args) => {
    const out = new Output(args);
    const cacheBytes = parseSize(args['cache-size']);
    if (cacheBytes === undefined) throw new UsageError(`--cache-size ${args['cache-size']}: expected a size such as 256M`);
    if (!Number.isInteger(args['read-ahead']) || args['read-ahead'] < 0) throw new UsageError('--read-ahead: expected a whole number of chunks, 0 or more');
    const tcp = args.listen !== undefined ? parseListen(args.listen) : undefined;
    if (args.socket !== undefined && existsSync(args.socket)) {
      throw new UsageError(`--socket ${args.socket}: the path exists (a socket left by an earlier run?): remove it or choose another path`);
    }
    const log = (line: string) => process.stderr.write(`drivesnap nbd: ${line}\n`);
    await withRepository(args, async (repo) => {
      const lock = await repo.lock(false);
      let privateDir: string | undefined;
      try {
        const exports = await snapshotExports(repo, args.snapshot, args.drive === undefined ? undefined : snapshotDriveSelector(args.drive), { cache: new ChunkCache(cacheBytes), readAhead: args['read-ahead'], log });
        const server = new NbdServer(exports, log);
        let address: ListenAddress;
        if (tcp) address = tcp;
        else if (args.socket !== undefined) address = { socket: resolve(args.socket) };
        else {
          privateDir = await mkdtemp(join(tmpdir(), 'drivesnap-nbd-'));
          address = { socket: join(privateDir, 'nbd.sock') };
        }
        const port = await server.listen(address).catch((err: unknown) => {
          throw new DrivesnapError('NBD_LISTEN', `cannot listen on ${describe(address)}: ${(err as Error).message}`);
        });
        const uri = (name: string) =>
          'socket' in address ? `nbd+unix:///${name}?socket=${address.socket}` : `nbd://${isIP(address.host) === 6 ? `[${address.host}]` : address.host}:${port}/${name}`;
        const listening = 'socket' in address ? { socket: address.socket } : { host: address.host, port };
        out.result(
          { ...listening, exports: exports.map((e) => ({ name: e.name, description: e.description, size: e.source.size, uri: uri(e.name) })) },
          [
            `serving ${exports.length} snapshot(s) read-only on ${'socket' in address ? address.socket : `${address.host}:${port}`}`,
            ...exports.map((e, i) => `${uri(e.name)}   ${e.description}, ${formatBytes(e.source.size)}${i === 0 ? ' (default export)' : ''}`),
          ].join('\n'),
        );
        if (tcp && !isLoopback(tcp.host)) log(`warning: ${tcp.host} is not a loopback address: anyone who reaches it can read these snapshots, unencrypted`);
        log('Ctrl-C stops the server');
        const cause = await untilStopped();
        log(`${cause}: stopping (${server.connections} connection(s) dropped)`);
        await server.close();
        process.exitCode = ExitCode.interrupted;
      } finally {
        await lock.release();
        if (privateDir) await rm(privateDir, { recursive: true, force: true });
        else if (args.socket !== undefined) await rm(resolve(args.socket), { force: true });
      }
    });
  },
};

function describe(a: ListenAddress): string {
  return 'socket' in a ? a.socket : `${a.host}:${a.port}`;
}

function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || host.startsWith('127.');
}

/**
 * The server owns the process until the first SIGINT or SIGTERM: the CLI's stop handlers (../stop.js)
 * abort the stop signal and exit 130 anyway if closing takes longer than their grace period.
 */
function untilStopped(): Promise<StopCause> {
  return new Promise((resolve) => onStop(resolve));
}
