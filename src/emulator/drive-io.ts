/**
 * Drive data: `read/OFFSET/SIZE` (GET or POST, at most 4 MiB) and `write[/OFFSET]` (raw or gzip, already
 * decoded by request-body.ts). Reads are one pread into one Buffer from a pooled handle.
 */
import { type Handler, noContent, param } from './call.js';
import { full, usage } from './http-error.js';
import { parseSizeValue } from './keys.js';
import { countIo } from './state.js';
import { MAX_READ_BYTES } from './types.js';

export const read: Handler = async (ctx) => {
  const offsetText = param(ctx, 'offset');
  const sizeText = param(ctx, 'size');
  if (offsetText === '' || sizeText === '') throw usage('read needs /OFFSET/SIZE, e.g. /drives/UUID/read/0/4M');
  const offset = parseSizeValue('offset', offsetText);
  const length = parseSizeValue('size', sizeText);
  if (length > MAX_READ_BYTES) throw usage(`read size ${length} exceeds the limit of ${MAX_READ_BYTES} bytes (4M)`);
  const found = await ctx.core.readableDrive(ctx.user, param(ctx, 'drive'));
  const driveSize = found.kind === 'drive' ? found.record.size : found.image.gzip.length;
  if (offset >= driveSize) throw usage(`offset ${offset} is at or past the end of the drive (${driveSize} bytes)`);
  const wanted = Math.min(length, driveSize - offset);
  let data: Buffer;
  if (found.kind === 'drive') {
    data = await ctx.core.readDrive(found.record.drive, offset, wanted);
  } else {
    data = found.image.gzip.subarray(offset, offset + wanted);
  }
  countIo(found.kind === 'drive' ? found.record.counters : ctx.core.libraryCounters(found.image.drive), false, data.length);
  ctx.core.stats.readRequests++;
  ctx.core.stats.readBytes += data.length;
  if (found.kind === 'drive') ctx.core.saver.saveLater();
  return { type: 'bytes', data };
};

export const write: Handler = async (ctx) => {
  const record = ctx.core.ownDrive(ctx.user, param(ctx, 'drive'));
  const offsetText = param(ctx, 'offset');
  const offset = offsetText === '' ? 0 : parseSizeValue('offset', offsetText);
  const data = ctx.data;
  if (offset + data.length > record.size) {
    throw full(`write of ${data.length} bytes at offset ${offset} runs past the end of the drive (${record.size} bytes)`);
  }
  ctx.core.assertNotBusy(record, 'write to it');
  // The counters are on disk before the data changes: a crash between the two can only make the drive look
  // written when it was not, never unchanged when it was (drivesnap skips drives whose counters did not move).
  countIo(record.counters, true, data.length);
  await ctx.core.saver.save();
  await ctx.core.writeDrive(record.drive, offset, data);
  ctx.core.stats.writeRequests++;
  ctx.core.stats.writeBytes += data.length;
  return noContent;
};

export const driveIoHandlers: Record<string, Handler> = { 'drives.read': read, 'drives.write': write };
