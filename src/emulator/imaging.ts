/**
 * Server-side imaging: `POST /drives/DST/image/SRC[/gzip|/gunzip]` copies SRC into DST in the background,
 * optionally compressing or expanding a gzip stream. At most IMAGING_CONCURRENCY jobs run at once; the
 * rest wait (`imaging queued`). Both drives count as claimed until the job ends. Jobs are persisted and a
 * restart runs unfinished ones again from the start. Output beyond DST's size is dropped, and DST bytes
 * past the end of the output are left as they were (like dd onto a disk).
 */
import { Readable, type Transform, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGunzip, createGzip } from 'node:zlib';
import type { EmulatorCore } from './core.js';
import { countIo, type ImagingConversion, type ImagingJobRecord } from './state.js';

export const IMAGING_CONCURRENCY = 2;
const IMAGING_CHUNK = 1024 * 1024;

interface Job {
  record: ImagingJobRecord;
  state: 'queued' | 'running';
  done: number;
  total: number;
}

class ImagingAborted extends Error {}

export class ImagingManager {
  private readonly jobs = new Map<string, Job>();
  private readonly running = new Set<Promise<void>>();
  private stopping = false;

  constructor(private readonly core: EmulatorCore) {}

  /** Re-queues the jobs a previous run left unfinished. */
  resume(): void {
    for (const record of this.core.state.imaging) this.enqueue(record);
  }

  async start(dst: string, src: string, conversion: ImagingConversion): Promise<void> {
    const record = { dst, src, conversion };
    this.core.state.imaging.push(record);
    this.enqueue(record);
    await this.core.saver.save();
  }

  /** `queued`, `NN%`, or undefined when DST is not being imaged. */
  statusOf(dst: string): string | undefined {
    const job = this.jobs.get(dst);
    if (!job) return undefined;
    if (job.state === 'queued') return 'queued';
    const percent = job.total === 0 ? 0 : Math.min(99, Math.floor((job.done * 100) / job.total));
    return `${percent}%`;
  }

  async stop(): Promise<void> {
    this.stopping = true;
    await Promise.allSettled([...this.running]);
  }

  private enqueue(record: ImagingJobRecord): void {
    this.jobs.set(record.dst, { record, state: 'queued', done: 0, total: 0 });
    this.mark(record.dst, 1);
    this.mark(record.src, 1);
    this.pump();
  }

  private mark(drive: string, delta: number): void {
    const n = (this.core.imagingDrives.get(drive) ?? 0) + delta;
    if (n > 0) this.core.imagingDrives.set(drive, n);
    else this.core.imagingDrives.delete(drive);
  }

  private pump(): void {
    if (this.stopping) return;
    for (const job of this.jobs.values()) {
      if (this.running.size >= IMAGING_CONCURRENCY) return;
      if (job.state !== 'queued') continue;
      job.state = 'running';
      const run: Promise<void> = this.run(job)
        .catch((err: unknown) => {
          if (!(err instanceof ImagingAborted)) {
            process.stderr.write(`emulator: imaging ${job.record.src} -> ${job.record.dst} failed: ${String(err)}\n`);
          }
        })
        .finally(() => {
          this.running.delete(run);
          if (!this.stopping) this.finish(job);
        });
      this.running.add(run);
    }
  }

  private finish(job: Job): void {
    this.jobs.delete(job.record.dst);
    this.mark(job.record.dst, -1);
    this.mark(job.record.src, -1);
    const list = this.core.state.imaging;
    const i = list.indexOf(job.record);
    if (i >= 0) list.splice(i, 1);
    this.core.saver.saveLater();
    this.pump();
  }

  private async run(job: Job): Promise<void> {
    const { core } = this;
    const { src, dst, conversion } = job.record;
    const dstRecord = core.state.drives[dst];
    if (!dstRecord) return;
    const library = await core.libraryImage(src);
    const srcRecord = core.state.drives[src];
    if (!library && !srcRecord) return;
    job.total = library ? library.gzip.length : srcRecord!.size;
    const rate = core.limits.imagingBytesPerSec;
    const started = Date.now();
    const stopping = () => this.stopping;

    async function* source(): AsyncGenerator<Buffer> {
      for (let offset = 0; offset < job.total; offset += IMAGING_CHUNK) {
        if (stopping()) throw new ImagingAborted();
        const length = Math.min(IMAGING_CHUNK, job.total - offset);
        const chunk = library
          ? library.gzip.subarray(offset, offset + length)
          : await core.readDrive(src, offset, length);
        // Imaging is I/O like any other: it moves the source's read counters (a live source, or the library).
        const srcCounters = library ? core.libraryCounters(src) : core.state.drives[src]?.counters;
        if (srcCounters) countIo(srcCounters, false, chunk.length);
        job.done = offset + chunk.length;
        yield chunk;
        if (rate) {
          const due = started + (job.done / rate) * 1000;
          const wait = due - Date.now();
          if (wait > 0) await new Promise((r) => setTimeout(r, wait));
        }
      }
    }

    let position = 0;
    const limit = dstRecord.size;
    const sink = new Writable({
      write(chunk: Buffer, _enc, callback) {
        const room = limit - position;
        const part = chunk.length > room ? chunk.subarray(0, room) : chunk;
        // Counted before the bytes land, as for API writes; a crash re-runs the job, which counts again.
        if (part.length > 0) countIo(dstRecord.counters, true, part.length);
        core.saver.saveLater();
        core.writeDrive(dst, position, part).then(() => {
          position += part.length;
          // Output past DST's end is dropped; stop reading the source once DST is full.
          callback(position >= limit && chunk.length >= room ? new DriveFull() : null);
        }, callback);
      },
    });
    const stages: (Readable | Transform | Writable)[] = [Readable.from(source())];
    if (conversion === 'gunzip') stages.push(createGunzip());
    if (conversion === 'gzip') stages.push(createGzip());
    stages.push(sink);
    try {
      await pipeline(stages);
    } catch (err) {
      if (!(err instanceof DriveFull)) throw err;
    }
  }
}

class DriveFull extends Error {}
