/**
 * Shows a job's progress: a bar on a terminal (bytes, throughput, ETA, ranges by outcome), JSON events
 * with --json (at most a few per second), nothing otherwise; then the one-paragraph summary.
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

function jsonView(out: Output, label: string): ProgressView {
  let last = 0;
  let current: Progress | undefined;
  return {
    update(p) {
      current = p;
      const now = Date.now();
      if (now - last < 250) return;
      last = now;
      out.event({ event: 'progress', target: label, ...p.snapshot() });
    },
    stop() {
      if (current) out.event({ event: 'progress', target: label, ...current.snapshot() });
      current = undefined;
    },
  };
}

/** Loaded only when a bar is drawn: runs from cron or with --json never pay for it. */
function loadCliProgress(): typeof cliProgressModule {
  return createRequire(import.meta.url)('cli-progress') as typeof cliProgressModule;
}

function barView(label: string): ProgressView {
  const cliProgress = loadCliProgress();
  const bar = new cliProgress.SingleBar(
    {
      format: '{label} [{bar}] {percentage}% {doneBytes}/{totalBytes} {speed} ETA {eta_formatted} | {ranges}{retries}',
      barsize: 24,
      hideCursor: true,
      stream: process.stderr,
      clearOnComplete: true,
      etaBuffer: 50,
    },
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
        label,
        doneBytes: formatBytes(s.bytesDone),
        totalBytes: formatBytes(s.bytesTotal),
        speed: formatRate(s.throughput),
        ranges: formatCounts(s.counts),
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
