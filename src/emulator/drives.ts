/** Drive calls: list, info (own, `/standard`, `/full`), create, set (resize), destroy, image. */
import { randomUUID } from 'node:crypto';
import type { ApiObject } from '../api/wire.js';
import { type CallContext, type Handler, infoReply, noContent, param, type Reply } from './call.js';
import { driveInfo, libraryInfo } from './drive-info.js';
import { busy, full, missing, usage } from './http-error.js';
import type { ImagingManager } from './imaging.js';
import { UUID_RE, validateDriveKeys } from './keys.js';
import { type InfoBlock, rememberListKeys } from './list-keys.js';
import { checkAllocation } from './limits.js';
import { standardImages } from './standard-library.js';
import { countIo, type DriveRecord, type ImagingConversion, newCounters } from './state.js';

function byName(a: ApiObject, b: ApiObject): number {
  return (a.name ?? '').localeCompare(b.name ?? '') || (a.drive ?? '').localeCompare(b.drive ?? '');
}

export function driveHandlers(imaging: ImagingManager): Record<string, Handler> {
  const infoOf = (ctx: CallContext, record: DriveRecord): InfoBlock => ({
    object: driveInfo(ctx.core, record, { full: param(ctx, 'full') === '1' }, imaging.statusOf(record.drive)),
    lists: record.lists,
  });

  const ownDrives = (ctx: CallContext) =>
    Object.values(ctx.core.state.drives)
      .filter((d) => d.user === ctx.user)
      .sort((a, b) => a.drive.localeCompare(b.drive));

  const libraryObjects = async (ctx: CallContext) =>
    (await standardImages()).map((i) => ({ object: libraryInfo(i, ctx.core.libraryCounters(i.drive)) }));

  const list: Handler = async (ctx) => {
    const ids = param(ctx, 'standard')
      ? (await libraryObjects(ctx)).map((o) => o.object.drive!)
      : ownDrives(ctx).map((d) => d.drive);
    return { type: 'list', items: ids.map((drive) => ({ drive })) };
  };

  const info: Handler = async (ctx) => {
    const drive = param(ctx, 'drive');
    if (drive) {
      const found = await ctx.core.readableDrive(ctx.user, drive);
      const block =
        found.kind === 'drive'
          ? infoOf(ctx, found.record)
          : { object: libraryInfo(found.image, ctx.core.libraryCounters(found.image.drive)) };
      return infoReply([block], true);
    }
    const blocks = param(ctx, 'standard')
      ? (await libraryObjects(ctx)).sort((a, b) => byName(a.object, b.object))
      : ownDrives(ctx).map((d) => infoOf(ctx, d));
    return infoReply(blocks, false);
  };

  const create: Handler = async (ctx) => {
    const { props, size } = validateDriveKeys(ctx.body, true);
    if (props.name === undefined) throw usage('drive create needs a name');
    if (size === undefined) throw usage('drive create needs a size');
    checkAllocation(ctx.core, ctx.user, size, 1);
    const record: DriveRecord = { drive: randomUUID(), user: ctx.user, size, props, counters: newCounters() };
    rememberListKeys(record, record.props, ctx.body, ctx.lists);
    await ctx.core.createDriveFile(record.drive, size);
    ctx.core.state.drives[record.drive] = record;
    await ctx.core.saver.save();
    return infoReply([infoOf(ctx, record)], true);
  };

  const set: Handler = async (ctx) => {
    const record = ctx.core.ownDrive(ctx.user, param(ctx, 'drive'));
    const { props, size } = validateDriveKeys(ctx.body, false);
    if (size !== undefined && size !== record.size) {
      ctx.core.assertNotBusy(record, 'resize it');
      checkAllocation(ctx.core, ctx.user, size - record.size, 0);
      // Shrinking discards the tail, which reads as zeros if the drive grows back: count that as a write,
      // so a shrink-and-grow never leaves a drive looking unchanged (same size, same counters).
      if (size < record.size) {
        countIo(record.counters, true, record.size - size);
        await ctx.core.saver.save();
      }
      await ctx.core.resizeDriveFile(record.drive, size);
      record.size = size;
    }
    Object.assign(record.props, props);
    rememberListKeys(record, record.props, ctx.body, ctx.lists);
    await ctx.core.saver.save();
    return infoReply([infoOf(ctx, record)], true);
  };

  const destroy: Handler = async (ctx) => {
    const record = ctx.core.ownDrive(ctx.user, param(ctx, 'drive'));
    ctx.core.assertNotBusy(record, 'destroy it');
    delete ctx.core.state.drives[record.drive];
    await ctx.core.saver.save();
    await ctx.core.deleteDriveFile(record.drive);
    return noContent;
  };

  const image: Handler = async (ctx): Promise<Reply> => {
    const dst = ctx.core.ownDrive(ctx.user, param(ctx, 'drive'));
    const srcId = param(ctx, 'source');
    if (!UUID_RE.test(srcId)) throw missing(`drive ${srcId} not found`);
    const src = await ctx.core.readableDrive(ctx.user, srcId);
    if (srcId === dst.drive) throw usage('a drive cannot be imaged from itself');
    ctx.core.assertNotBusy(dst, 'image into it');
    if (src.kind === 'drive' && imaging.statusOf(srcId) !== undefined) {
      throw busy(`drive ${srcId} is itself being imaged; image from it when that is done`);
    }
    const conversion = param(ctx, 'conversion') as ImagingConversion;
    const srcBytes = src.kind === 'drive' ? src.record.size : src.image.gzip.length;
    const outBytes = src.kind === 'library' && conversion === 'gunzip' ? src.image.rawsize : srcBytes;
    if (conversion !== 'gzip' && outBytes > dst.size) {
      throw full(`drive ${dst.drive} (${dst.size} bytes) is smaller than the image (${outBytes} bytes)`);
    }
    await imaging.start(dst.drive, srcId, conversion);
    return noContent;
  };

  return {
    'drives.list': list,
    'drives.info': info,
    'drives.create': create,
    'drives.set': set,
    'drives.destroy': destroy,
    'drives.image': image,
  };
}
