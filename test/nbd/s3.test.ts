/** `drivesnap nbd` on an S3 repository (a real S3-compatible server): chunks fetched lazily over HTTP. */
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Cleanup, makeImage, MiB, PASSWORD, s3Repo } from '../helpers/engine-fixtures.js';
import { backupFile } from '../helpers/ops-fixtures.js';
import { s3CliEnv } from '../helpers/s3-cli-env.js';
import { type S3TestServer, startS3Server } from '../helpers/s3-server.js';
import { hasTool, runTool, startNbd, stopNbd } from './nbd-fixtures.js';

const cleanup = new Cleanup();
afterAll(() => cleanup.run());

describe.skipIf(!hasTool('nbdcopy'))('drivesnap nbd on an S3 repository (skipped: libnbd-bin is not installed)', () => {
  let s3: S3TestServer;
  beforeAll(async () => {
    s3 = await startS3Server();
    cleanup.add(() => s3.close());
  }, 60_000);

  it('serves `latest --drive` over TCP on loopback, and nbdcopy reads it byte for byte', async () => {
    const t = await s3Repo(cleanup, s3, 'nbd/repo');
    const work = await cleanup.tempDir('drivesnap-nbd-s3-');
    const image = makeImage([{ text: 21 }, 'zero', { random: 22 }], MiB + 3);
    const path = join(work, 'drive.img');
    await writeFile(path, image);
    const id = await backupFile(t.repo, path);
    const env = s3CliEnv(s3, 'nbd/repo', {
      DRIVESNAP_PASSWORD: PASSWORD,
      DRIVESNAP_INDEX: t.indexPath,
      HOME: work,
    });
    const nbd = await startNbd(['latest', '--drive', path, '--listen', '127.0.0.1:0'], env);
    try {
      expect(nbd.exports.map((e) => e.name)).toEqual([id]);
      expect(nbd.exports[0]!.uri).toBe(`nbd://127.0.0.1:${nbd.port}/${id}`);
      const out = join(work, 'copy.img');
      const r = await runTool('nbdcopy', [nbd.exports[0]!.uri, out]);
      expect(r.code, r.stderr).toBe(0);
      expect((await readFile(out)).equals(image)).toBe(true);
    } finally {
      expect((await stopNbd(nbd)).code).toBe(130);
    }
  });
});
