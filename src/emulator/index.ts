/**
 * The drive API emulator: a strict server of the ElasticHosts drive API on node:http, with drives as sparse
 * files under a data directory, several accounts, imaging, servers that claim drives, quotas, and fault
 * injection. How users try drivesnap, and what the tests and benchmarks run against. Where the API
 * reference leaves a choice, docs/emulator.md ("Choices made where the contract leaves one") says which.
 */
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { resolveAccounts } from './accounts.js';
import { EmulatorCore, zeroStats } from './core.js';
import { driveIoHandlers } from './drive-io.js';
import { driveHandlers } from './drives.js';
import { FaultInjector, type FaultSpec } from './faults.js';
import { guestRead, guestWrite } from './guest-io.js';
import { ImagingManager } from './imaging.js';
import { loadState } from './persistence.js';
import { resourceHandlers } from './resources.js';
import { createRequestHandler } from './server.js';
import { ServerManager } from './servers.js';
import { Wan, type WanSpec } from './wan.js';
import {
  DEFAULT_MAX_WRITE_BYTES,
  DEFAULT_SHUTDOWN_DELAY_MS,
  type Emulator,
  type EmulatorOptions,
} from './types.js';

export { parseAccount, parseAccountList } from './accounts.js';
export { type FaultSpec, parseFaultSpec } from './faults.js';
export { GuestIoError } from './guest-io.js';
export { EmulatorStateError } from './state-errors.js';
export { parseBandwidth, type WanSpec } from './wan.js';
export { ALL_READERS, LIBRARY_OWNER, STANDARD_DRIVES } from './standard-library.js';
export {
  DEFAULT_MAX_WRITE_BYTES,
  DEFAULT_SHUTDOWN_DELAY_MS,
  type Emulator,
  type EmulatorAccount,
  type EmulatorOptions,
  type EmulatorStats,
  MAX_READ_BYTES,
} from './types.js';

export async function startEmulator(opts: EmulatorOptions = {}): Promise<Emulator> {
  const ownsDataDir = opts.dataDir === undefined;
  const dataDir = opts.dataDir ?? (await mkdtemp(join(tmpdir(), 'drivesnap-emulator-')));
  await mkdir(dataDir, { recursive: true });
  const accounts = await resolveAccounts(dataDir, opts.accounts);
  const core = new EmulatorCore(dataDir, await loadState(dataDir), accounts, {
    storageLimitBytes: opts.storageLimitBytes,
    maxWriteBytes: opts.maxWriteBytes ?? DEFAULT_MAX_WRITE_BYTES,
    imagingBytesPerSec: opts.imagingBytesPerSec,
    shutdownDelayMs: opts.shutdownDelayMs ?? DEFAULT_SHUTDOWN_DELAY_MS,
    imagingInfo: opts.imagingInfo ?? 'percent',
  });
  await core.ensureDirs();
  const faults = new FaultInjector(opts.faults);
  const wan = new Wan(opts.wan);
  const imaging = new ImagingManager(core);
  const servers = new ServerManager(core);
  const handlers = {
    ...driveHandlers(imaging),
    ...driveIoHandlers,
    ...servers.handlers(),
    ...resourceHandlers(core),
  };
  const server = createServer({ keepAliveTimeout: 30_000 }, createRequestHandler({ core, faults, wan, handlers }));
  const host = opts.host ?? '127.0.0.1';
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  imaging.resume();
  servers.resume();
  const { port } = server.address() as AddressInfo;
  const urlHost = host.includes(':') ? `[${host}]` : host;

  let closing: Promise<void> | undefined;
  return {
    url: `http://${urlHost}:${port}/`,
    accounts,
    dataDir,
    setFaults: (spec: FaultSpec | undefined) => faults.set(spec),
    setWan: (spec: WanSpec | undefined) => wan.set(spec),
    simulateServerWrite: (drive, offset, data, server) => guestWrite(core, drive, offset, data, server),
    simulateServerRead: (drive, offset, length, server) => guestRead(core, drive, offset, length, server),
    stats: () => ({ ...core.stats }),
    resetStats: () => {
      core.stats = zeroStats();
    },
    close: () => {
      closing ??= (async () => {
        const closed = new Promise<void>((resolve) => server.close(() => resolve()));
        server.closeAllConnections();
        await closed;
        servers.stop();
        await imaging.stop();
        await core.saver.close();
        await core.fds.closeAll();
        if (ownsDataDir) await rm(dataDir, { recursive: true, force: true });
      })();
      return closing;
    },
  };
}
