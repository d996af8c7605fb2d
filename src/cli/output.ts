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

/** Renders rows as an aligned text table. */
export function table(headers: string[], rows: (string | number)[][]): string {
  const cells = [headers, ...rows.map((r) => r.map(String))];
  const widths = headers.map((_, i) => Math.max(...cells.map((r) => (r[i] ?? '').length)));
  return cells
    .map((r) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]!))).join('  ').trimEnd())
    .join('\n');
}
