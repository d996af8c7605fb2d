import { describe, expect, it } from 'vitest';
import {
  type CodecContext,
  decodeManifest,
  encodeManifest,
  type Manifest,
  rangeCount,
  type SnapshotMeta,
  SUBKEY_INFO,
  tableEntry,
  ZERO_ID,
} from '../../../src/repo/format/index.js';
import { CHUNK, encryptedContext, flipByte, hmac, plainContext, sameBytes, sha256, subkey } from './fixtures.js';

const contexts: [string, () => Promise<CodecContext>][] = [
  ['plain', async () => plainContext()],
  ['encrypted', () => encryptedContext()],
];

function meta(size: number, over: Partial<SnapshotMeta> = {}): SnapshotMeta {
  return {
    driveUuid: '8f3c0a6e-1d2b-4c5d-9e7f-0123456789ab',
    driveName: 'web-1 root',
    accountName: 'prod',
    endpoint: 'https://api-lon-p.elastichosts.com',
    size,
    chunkSize: CHUNK,
    time: '2026-08-21T10:00:00.000Z',
    host: 'backup-host',
    tags: ['nightly'],
    parent: null,
    toolVersion: '0.1.0',
    counts: { zero: 0, new: 0, reused: 0 },
    claimed: false,
    extra: { note: 'test' },
    ...over,
  };
}

/** A table of distinct ids with every third range all-zero. */
function table(ranges: number): Buffer {
  const t = Buffer.alloc(ranges * 32);
  for (let i = 0; i < ranges; i++) if (i % 3 !== 0) t.writeUInt32BE(i + 1, i * 32);
  return t;
}

describe('rangeCount', () => {
  it('counts whole ranges plus one for a shorter tail', () => {
    expect(rangeCount(0, CHUNK)).toBe(0);
    expect(rangeCount(1, CHUNK)).toBe(1);
    expect(rangeCount(CHUNK, CHUNK)).toBe(1);
    expect(rangeCount(CHUNK + 1, CHUNK)).toBe(2);
    expect(rangeCount(64 * 1024 ** 3, CHUNK)).toBe(16384);
    expect(rangeCount(10 * 1024 ** 4, CHUNK)).toBe(2_621_440);
    expect(() => rangeCount(-1, CHUNK)).toThrow();
  });
});

describe.each(contexts)('manifest round trip (%s)', (_kind, makeContext) => {
  it('restores metadata and a table with zero markers for a 64 GiB drive plus a short tail', async () => {
    const ctx = await makeContext();
    const size = 64 * 1024 ** 3 + 12345;
    const m: Manifest = { meta: meta(size, { parent: 'ab'.repeat(32), counts: { zero: 5462, new: 3, reused: 10920 } }), table: table(16385) };
    const { id, name, object } = await encodeManifest(m, ctx);
    expect(name).toBe(`snapshots/${id}`);
    const back = await decodeManifest(object, id, ctx);
    expect(back.meta).toEqual(m.meta);
    expect(sameBytes(back.table, m.table)).toBe(true);
    expect(tableEntry(back.table, 0).equals(ZERO_ID)).toBe(true);
    expect(tableEntry(back.table, 1).readUInt32BE(0)).toBe(2);
  });

  it('restores an empty manifest (a zero-byte drive)', async () => {
    const ctx = await makeContext();
    const m: Manifest = { meta: meta(0), table: Buffer.alloc(0) };
    const { id, object } = await encodeManifest(m, ctx);
    const back = await decodeManifest(object, id, ctx);
    expect(back.meta).toEqual(m.meta);
    expect(back.table.length).toBe(0);
  });

  it('refuses a table that does not match the drive size, or a foreign chunk size', async () => {
    const ctx = await makeContext();
    await expect(encodeManifest({ meta: meta(CHUNK + 1), table: table(1) }, ctx)).rejects.toMatchObject({
      code: 'FORMAT_USAGE',
    });
    await expect(encodeManifest({ meta: meta(CHUNK, { chunkSize: 1024 * 1024 }), table: table(4) }, ctx)).rejects.toMatchObject({
      code: 'FORMAT_USAGE',
    });
  });

  it('detects damage, a swapped id, truncation and a newer version', async () => {
    const ctx = await makeContext();
    const a = await encodeManifest({ meta: meta(10 * CHUNK), table: table(10) }, ctx);
    const b = await encodeManifest({ meta: meta(11 * CHUNK), table: table(11) }, ctx);
    for (const index of [0, 5, 9, Math.floor(a.object.length / 2), -1]) {
      await expect(decodeManifest(flipByte(a.object, index), a.id, ctx)).rejects.toMatchObject({ code: 'SNAPSHOT_CORRUPT' });
    }
    await expect(decodeManifest(a.object, b.id, ctx)).rejects.toMatchObject({ code: 'SNAPSHOT_CORRUPT' });
    await expect(decodeManifest(a.object.subarray(0, a.object.length - 10), a.id, ctx)).rejects.toMatchObject({
      code: 'SNAPSHOT_CORRUPT',
    });
    const newer = Buffer.from(a.object);
    newer[4] = 9;
    await expect(decodeManifest(newer, a.id, ctx)).rejects.toMatchObject({ code: 'REPO_VERSION' });
  });

  it('a chunk object cannot be read as a manifest', async () => {
    const ctx = await makeContext();
    const a = await encodeManifest({ meta: meta(CHUNK), table: table(1) }, ctx);
    const asChunk = Buffer.from(a.object);
    asChunk.write('DSCK', 0, 'latin1');
    await expect(decodeManifest(asChunk, a.id, ctx)).rejects.toThrow(/bad magic/);
  });
});

describe('snapshot ids', () => {
  it('is the SHA-256 of the documented plaintext (u32 length | JSON | table) in a plain repository', async () => {
    const ctx = plainContext();
    const m: Manifest = { meta: meta(3 * CHUNK), table: table(3) };
    const { id } = await encodeManifest(m, ctx);
    const json = Buffer.from(JSON.stringify(m.meta), 'utf8');
    const length = Buffer.alloc(4);
    length.writeUInt32BE(json.length);
    expect(id).toBe(sha256(Buffer.concat([length, json, m.table])).toString('hex'));
  });

  it('is HMAC-SHA-256 under the id subkey in an encrypted repository', async () => {
    const ctx = await encryptedContext();
    const m: Manifest = { meta: meta(3 * CHUNK), table: table(3) };
    const { id } = await encodeManifest(m, ctx);
    const json = Buffer.from(JSON.stringify(m.meta), 'utf8');
    const length = Buffer.alloc(4);
    length.writeUInt32BE(json.length);
    expect(id).toBe(hmac(subkey(ctx.master, SUBKEY_INFO.id), Buffer.concat([length, json, m.table])).toString('hex'));
  });

  it('compresses a table of mostly zero ranges to a small object', async () => {
    const ctx = await encryptedContext();
    const m: Manifest = { meta: meta(64 * 1024 ** 3), table: Buffer.alloc(16384 * 32) };
    const { object } = await encodeManifest(m, ctx);
    expect(object.length).toBeLessThan(4096);
  });
});
