/**
 * migrate-server records that it is creating a destination drive before the create call (issue 8, item 4):
 * killed while the call was in flight (the drive exists, its UUID never reached drivesnap), the rerun adopts
 * that drive instead of creating a second one of the same name, and never a drive that existed before.
 */
import { writeFile } from 'node:fs/promises';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { ApiClient } from '../../src/api/client.js';
import type { Emulator } from '../../src/emulator/index.js';
import { runCli, spawnCli, waitUntil } from '../helpers/engine-cli.js';
import {
  ACCOUNT_B,
  Cleanup,
  apiClient,
  createDriveWith,
  emulator,
  emulatorCliEnv,
  makeImage,
  readWholeDrive,
} from '../helpers/engine-fixtures.js';

const IMAGE = makeImage([{ text: 91 }, { random: 92 }]);
const cleanup = new Cleanup();
let emu: Emulator;
let a: ApiClient;
let b: ApiClient;
let env: NodeJS.ProcessEnv;

beforeAll(async () => {
  emu = await emulator(cleanup);
  a = apiClient(cleanup, emu);
  b = apiClient(cleanup, emu, ACCOUNT_B);
  const work = await cleanup.tempDir();
  env = await emulatorCliEnv(emu, work, { B_SECRET: ACCOUNT_B.secret });
  await writeFile(env.DRIVESNAP_CONFIG!, `accounts:\n  b:\n    url: ${emu.url}\n    user: ${ACCOUNT_B.user}\n    secretEnv: B_SECRET\n`);
  const drive = await createDriveWith(a, 'mig-root', IMAGE);
  await a.createServer({ name: 'mig', cpu: '1000', mem: '512', persistent: 'true', 'ide:0:0': drive, boot: 'ide:0:0' }, { stopped: true });
  // A drive of the same name that the destination held before: never to be adopted.
  await createDriveWith(b, 'mig-root', Buffer.alloc(IMAGE.length, 7));
});
afterAll(() => cleanup.run());

it('the rerun adopts the drive the killed run created, not a second one and not the older one', async () => {
  const before = (await b.listDriveInfo()).filter((d) => d.name === 'mig-root').map((d) => d.uuid);
  emu.setFaults({ slowBodyBytesPerSec: 1, calls: ['drives.create'] });
  const run = spawnCli(['migrate-server', 'eh:mig', 'b:', '--json'], env);
  let exited = false;
  void run.done.then(() => {
    exited = true;
  });
  await waitUntil(async () => exited || (await b.listDriveInfo()).filter((d) => d.name === 'mig-root').length > 1, 'the drive to be created', 60_000, 20);
  run.child.kill('SIGKILL');
  expect((await run.done).signal).toBe('SIGKILL');
  emu.setFaults(undefined);

  const rerun = await runCli(['migrate-server', 'eh:mig', 'b:', '--json'], env);
  expect(rerun.code, rerun.stderr).toBe(0);
  const now = (await b.listDriveInfo()).filter((d) => d.name === 'mig-root');
  expect(now).toHaveLength(2);
  const made = now.find((d) => !before.includes(d.uuid))!;
  expect((await readWholeDrive(b, made.uuid)).equals(IMAGE)).toBe(true);
  expect((await readWholeDrive(b, before[0]!)).equals(Buffer.alloc(IMAGE.length, 7))).toBe(true);
});
