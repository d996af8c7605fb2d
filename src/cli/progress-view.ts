/**
 * Shows a job's progress: a bar on a terminal (bytes, throughput, ETA, ranges by outcome), JSON events
 * with --json (at most a few per second), nothing otherwise; then the one-paragraph summary. Several
 * drives backed up at once (fleetProgressView) show as one bar per drive in flight under a totals line;
 * their JSON events carry the fleet's counts (`drivesInFlight`, `drivesDone`, `drivesTotal`) too.
 */
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import { createRequire } from 'node:module';
import type cliProgressModule from 'cli-progress';
import type { Progress, ProgressSnapshot, RangeOutcome } from '../engine/progress.js';
import { RETRY_CHANNEL } from '../util/retry-policy.js';
import { formatBytes, formatRate } from '../util/size.js';
import type { Output } from './output.js';

const LABELS: Record<RangeOutcome, string> = {
  zero: 'zero',
  unchanged: 'unchanged',
  new: 'new',
  'in-place': 'in place',
  written: 'written',
  'zero-skipped': 'zero skipped',
  resumed: 'resumed',
};

export function formatCounts(counts: ProgressSnapshot['counts']): string {
  return (Object.keys(LABELS) as RangeOutcome[])
    .filter((k) => counts[k])
    .map((k) => `${counts[k]} ${LABELS[k]}`)
    .join(', ');
}

export function formatDuration(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)} ms`;
  const s = ms / 1000;
  if (s < 60) return `${s.toFixed(1)} s`;
  const m = Math.floor(s / 60);
  return m < 60 ? `${m}m${Math.round(s % 60)}s` : `${Math.floor(m / 60)}h${m % 60}m`;
}

export interface ProgressView {
  /** Called by the job on every finished range. */
  update(p: Progress): void;
  stop(): void;
}

export function progressView(out: Output, label: string): ProgressView {
  if (out.json) return jsonView(out, label);
  if (out.quiet || !process.stderr.isTTY) return { update() {}, stop() {} };
  return barView(label);
}

function jsonView(out: Output, label: string, fleet?: () => Record<string, number>): ProgressView {
  let last = 0;
  let current: Progress | undefined;
  return {
    update(p) {
      current = p;
      const now = Date.now();
      if (now - last < 250) return;
      last = now;
      out.event({ event: 'progress', target: label, ...p.snapshot(), ...fleet?.() });
    },
    stop() {
      if (current) out.event({ event: 'progress', target: label, ...current.snapshot(), ...fleet?.() });
      current = undefined;
    },
  };
}

/** The progress of several drives backed up at once: a view per drive, and the end of the whole display. */
export interface FleetProgressView {
  drive(label: string): ProgressView;
  stop(): void;
}

/** What the drives of a fleet add up to: how many are in flight and done, and their bytes. */
export class FleetTotals {
  inFlight = 0;
  done = 0;
  private readonly bytes = new Map<string, { done: number; total: number }>();
  /** `drives`: how many the run backs up, when known before it starts (`backup`; not `run`). */
  constructor(readonly drives?: number) {}

  started(): void {
    this.inFlight++;
  }
  update(label: string, s: ProgressSnapshot): void {
    this.bytes.set(label, { done: s.bytesDone, total: s.bytesTotal });
  }
  finished(): void {
    this.inFlight--;
    this.done++;
  }
  /** Bytes done and known so far, over every drive started. */
  sums(): { bytesDone: number; bytesTotal: number } {
    let bytesDone = 0;
    let bytesTotal = 0;
    for (const b of this.bytes.values()) {
      bytesDone += b.done;
      bytesTotal += b.total;
    }
    return { bytesDone, bytesTotal };
  }
  counts(): { drivesInFlight: number; drivesDone: number; drivesTotal?: number } {
    return { drivesInFlight: this.inFlight, drivesDone: this.done, ...(this.drives === undefined ? {} : { drivesTotal: this.drives }) };
  }
}

/**
 * A display for `drives` items (undefined: not known yet) backed up several at once; a single item is
 * shown as progressView shows it.
 */
export function fleetProgressView(out: Output, drives?: number): FleetProgressView {
  if (drives === 1 || (!out.json && (out.quiet || !process.stderr.isTTY))) return { drive: (label) => progressView(out, label), stop() {} };
  const totals = new FleetTotals(drives);
  const counted = (view: ProgressView, label: string): ProgressView => {
    totals.started();
    let stopped = false;
    return {
      update(p) {
        totals.update(label, p.snapshot());
        view.update(p);
      },
      stop() {
        if (stopped) return;
        stopped = true;
        // Counted first, so the totals line the view redraws on its way out has this drive done.
        totals.finished();
        view.stop();
      },
    };
  };
  if (out.json) return { drive: (label) => counted(jsonView(out, label, () => totals.counts()), label), stop() {} };
  const bars = multiBarView(totals);
  return { drive: (label) => counted(bars.drive(label), label), stop: () => bars.stop() };
}

function multiBarView(totals: FleetTotals): FleetProgressView {
  const cliProgress = loadCliProgress();
  const multi = new cliProgress.MultiBar(
    { ...barStyle(), format: '{label} [{bar}] {percentage}% {doneBytes}/{totalBytes} {speed} | {ranges}', gracefulExit: false },
    cliProgress.Presets.shades_classic,
  );
  const startedAt = Date.now();
  const totalPayload = () => {
    const { bytesDone, bytesTotal } = totals.sums();
    const seconds = (Date.now() - startedAt) / 1000;
    return {
      doneBytes: formatBytes(bytesDone),
      totalBytes: formatBytes(bytesTotal),
      speed: formatRate(seconds > 0 ? bytesDone / seconds : 0),
      done: totals.drives === undefined ? totals.done : `${totals.done}/${totals.drives}`,
      inFlight: totals.inFlight,
    };
  };
  const total = multi.create(1, 0, totalPayload(), {
    format: 'all drives: {done} done, {inFlight} in flight | {doneBytes} of {totalBytes} {speed}',
  });
  return {
    drive(label) {
      let bar: ReturnType<typeof multi.create> | undefined;
      let lastRender = 0;
      return {
        update(p) {
          const now = Date.now();
          if (bar && now - lastRender < 100) return;
          lastRender = now;
          const s = p.snapshot();
          const payload = barPayload(label, s);
          if (!bar) bar = multi.create(s.bytesTotal, s.bytesDone, payload);
          else bar.update(s.bytesDone, payload);
          total.update(0, totalPayload());
        },
        stop() {
          if (bar) multi.remove(bar);
          bar = undefined;
          total.update(0, totalPayload());
        },
      };
    },
    stop() {
      multi.stop();
    },
  };
}

/** What every bar shares: its look, and where it is drawn. */
function barStyle() {
  return { barsize: 24, hideCursor: true, stream: process.stderr, clearOnComplete: true };
}

/** One drive's figures as a bar shows them. */
function barPayload(label: string, s: ProgressSnapshot) {
  return { label, doneBytes: formatBytes(s.bytesDone), totalBytes: formatBytes(s.bytesTotal), speed: formatRate(s.throughput), ranges: formatCounts(s.counts) };
}

/** Loaded only when a bar is drawn: runs from cron or with --json never pay for it. */
function loadCliProgress(): typeof cliProgressModule {
  return createRequire(import.meta.url)('cli-progress') as typeof cliProgressModule;
}

function barView(label: string): ProgressView {
  const cliProgress = loadCliProgress();
  const bar = new cliProgress.SingleBar(
    { ...barStyle(), format: '{label} [{bar}] {percentage}% {doneBytes}/{totalBytes} {speed} ETA {eta_formatted} | {ranges}{retries}', etaBuffer: 50 },
    cliProgress.Presets.shades_classic,
  );
  let started = false;
  let lastRender = 0;
  // Retries show as a count on the bar: a line per retry would tear it.
  let retries = 0;
  const countRetry = (): void => {
    retries++;
  };
  subscribe(RETRY_CHANNEL, countRetry);
  return {
    update(p) {
      const now = Date.now();
      if (started && now - lastRender < 100) return;
      lastRender = now;
      const s = p.snapshot();
      const payload = {
        ...barPayload(label, s),
        retries: retries > 0 ? ` | ${retries} ${retries === 1 ? 'retry' : 'retries'}` : '',
      };
      if (!started) {
        bar.start(s.bytesTotal, s.bytesDone, payload);
        started = true;
      } else bar.update(s.bytesDone, payload);
    },
    stop() {
      unsubscribe(RETRY_CHANNEL, countRetry);
      if (started) bar.stop();
      started = false;
    },
  };
}

/** The one-paragraph summary at the end of a job. */
export function summarize(label: string, s: ProgressSnapshot): string {
  return (
    `${label}: ${formatBytes(s.bytesTotal)} in ${s.rangesTotal} ranges (${formatCounts(s.counts)}); ` +
    `read ${formatBytes(s.bytesRead)}, wrote ${formatBytes(s.bytesWritten)}; ` +
    `${formatDuration(s.elapsedMs)} at ${formatRate(s.throughput)}`
  );
}
