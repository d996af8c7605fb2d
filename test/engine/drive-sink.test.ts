/**
 * The drive sink's own compression (src/engine/ends/drive.ts) against a real emulator: raw ranges it
 * compresses go out gzip into deflate buffers it reuses, a range whose stream would not be shorter goes raw,
 * and with writes overlapping (a buffer handed back while others are in flight) every range lands intact.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ApiClient } from '../../src/api/client.js';
import { driveSink } from '../../src/engine/ends/drive.js';
import { apiClient, Cleanup, emulator, makeImage, RANGE, type RangeSpec, rangeOf, readWholeDrive } from '../helpers/engine-fixtures.js';

const cleanup = new Cleanup();
let a: ApiClient;

beforeAll(async () => {
  a = apiClient(cleanup, await emulator(cleanup));
});
afterAll(() => cleanup.run());

/** Writes every range of `image` through `sink`, at most `inFlight` at once; the bytes each write sent. */
async function writeAll(sink: ReturnType<typeof driveSink>, image: Buffer, inFlight: number): Promise<number[]> {
  const sent: number[] = [];
  let next = 0;
  const count = Math.ceil(image.length / RANGE);
  const worker = async (): Promise<void> => {
    for (let i = next++; i < count; i = next++) {
      // A copy: the sink must not depend on the caller's buffer staying untouched after the write.
      sent[i] = await sink.write(i * RANGE, { encoding: 'raw', data: Buffer.from(rangeOf(image, i)) });
    }
  };
  await Promise.all(Array.from({ length: inFlight }, worker));
  return sent;
}

describe('drive sink', () => {
  it('sends compressible ranges gzip through reused buffers and the others raw; overlapping writes all land intact', async () => {
    const specs: RangeSpec[] = [{ text: 1 }, { random: 2 }, { text: 3 }, { text: 4 }, { random: 5 }, { text: 6 }, { text: 7 }];
    const image = makeImage(specs, RANGE / 2 + 321);
    const drive = await a.createDrive({ name: 'sink', size: image.length });
    const sink = driveSink({ api: a, uuid: drive.uuid, size: image.length, description: 'eh:sink', startsZeroed: true, compressLevel: 1 });
    const sent = await writeAll(sink, image, 3);
    specs.forEach((spec, i) => {
      const length = rangeOf(image, i).length;
      // The test's text ranges hold 4 bits of entropy a byte: gzip takes them to about 60%.
      if (typeof spec === 'object' && 'random' in spec) expect(sent[i]).toBe(length);
      else expect(sent[i]).toBeLessThan(length * 0.7);
    });
    expect((await readWholeDrive(a, drive.uuid)).equals(image)).toBe(true);
    // Again over the same drive with other content: the buffers of the first pass are reused.
    const other = makeImage([{ text: 11 }, { text: 12 }, { random: 13 }, { text: 14 }, { text: 15 }, { random: 16 }, { text: 17 }], RANGE / 2 + 321);
    await writeAll(sink, other, 3);
    expect((await readWholeDrive(a, drive.uuid)).equals(other)).toBe(true);
  });
});
