/**
 * Writes all of `data` at `position` of an open file, however the kernel splits it (a short write is
 * continued; a write of nothing, which would loop forever, is an EIO).
 */
import type { FileHandle } from 'node:fs/promises';

export async function writeAll(handle: FileHandle, data: Uint8Array, position: number): Promise<void> {
  for (let done = 0; done < data.length; ) {
    const { bytesWritten } = await handle.write(data, done, data.length - done, position + done);
    if (bytesWritten === 0) throw Object.assign(new Error('the file system wrote nothing'), { code: 'EIO' });
    done += bytesWritten;
  }
}
