import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import { RETRY_CHANNEL, type RetryEvent } from '../util/retry-policy.js';

/**
 * How commands speak: human lines on stdout, or one JSON object per line with --json; diagnostics on
 * stderr. Commands never print secrets; this module is the one place that writes to the terminal.
 */
export interface GlobalOptions {
  json?: boolean;
  quiet?: boolean;
}

export class Output {
  constructor(private readonly opts: GlobalOptions) {}
  get json(): boolean {
    return Boolean(this.opts.json);
  }
  get quiet(): boolean {
    return Boolean(this.opts.quiet);
  }
  /** A line for people (suppressed by --json and --quiet). */
  info(line: string): void {
    if (!this.opts.json && !this.opts.quiet) process.stdout.write(line + '\n');
  }
  /** The command's result: JSON with --json, else the text form (printed even with --quiet). */
  result(value: unknown, text?: string): void {
    if (this.opts.json) process.stdout.write(JSON.stringify(value) + '\n');
    else if (text !== undefined) process.stdout.write(text.endsWith('\n') ? text : text + '\n');
  }
  /** A JSON event line (only with --json), e.g. progress. */
  event(value: Record<string, unknown>): void {
    if (this.opts.json) process.stdout.write(JSON.stringify(value) + '\n');
  }
  warn(line: string): void {
    if (!this.opts.quiet || this.opts.json) process.stderr.write(`warning: ${line}\n`);
  }
}

/**
 * Makes the retries of every layer visible while a command runs: an `{"event":"retry"}` line with --json;
 * else a line on stderr each when stderr is a log (on a terminal the progress bar counts them instead, as
 * lines would tear it). The returned function stops watching and prints the count, once, when there were
 * any (not with --quiet).
 */
export function watchRetries(out: Output): () => void {
  const byLayer: Record<string, number> = {};
  const listener = (message: unknown): void => {
    const e = message as RetryEvent;
    byLayer[e.layer] = (byLayer[e.layer] ?? 0) + 1;
    if (out.json) out.event({ event: 'retry', ...e });
    else if (!out.quiet && !process.stderr.isTTY) process.stderr.write(`${retryLine(e)}\n`);
  };
  subscribe(RETRY_CHANNEL, listener);
  return () => {
    unsubscribe(RETRY_CHANNEL, listener);
    const total = Object.values(byLayer).reduce((a, b) => a + b, 0);
    if (total === 0) return;
    if (out.json) out.event({ event: 'retries', total, byLayer });
    else if (!out.quiet) process.stderr.write(`${retrySummary(total, byLayer)}\n`);
  };
}

/** `retrying put OBJECT-NAME (attempt 1 failed: transient: ...) in 0.8 s`. */
export function retryLine(e: RetryEvent): string {
  const wait = e.delayMs < 1000 ? `${e.delayMs} ms` : `${(e.delayMs / 1000).toFixed(1)} s`;
  return `retrying ${e.operation} in ${wait} (attempt ${e.attempt} failed: ${e.kind}: ${e.error})`;
}

/** `3 retries (api 2, store 1)`. */
export function retrySummary(total: number, byLayer: Record<string, number>): string {
  const parts = Object.entries(byLayer).map(([layer, n]) => `${layer} ${n}`);
  return `${total} ${total === 1 ? 'retry' : 'retries'} (${parts.join(', ')})`;
}

/** Renders rows as an aligned text table. */
export function table(headers: string[], rows: (string | number)[][]): string {
  const cells = [headers, ...rows.map((r) => r.map(String))];
  const widths = headers.map((_, i) => Math.max(...cells.map((r) => (r[i] ?? '').length)));
  return cells
    .map((r) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]!))).join('  ').trimEnd())
    .join('\n');
}
