/**
 * What `run` reports after each pass (issue 11 §5): a status file (JSON) and a Prometheus text-format file
 * per job, so an operator alerts on a drive whose last good backup is too old. Pure: the pass's outcome and
 * the previous status in, the new status and the texts out; src/ops/run-status-writer.ts does the I/O.
 *
 * The status carries history across passes (last success survives failing passes, failures are counted), so
 * the previous status is read back and merged; a drive that leaves the job leaves the status.
 */
import { z } from 'zod';

/** One drive's outcome in one pass. */
export interface DrivePass {
  /** The job's label for the drive (`eh:web-1`). */
  drive: string;
  account?: string;
  uuid?: string;
  ok: boolean;
  startedAt: Date;
  finishedAt: Date;
  /** Bytes read from the drive. */
  bytesRead?: number;
  /** Bytes of the drive the new snapshot covers (its size). */
  bytesStored?: number;
  /** New bytes written to the repository (after compression). */
  bytesWritten?: number;
  snapshot?: string;
  /** How the snapshot was made (change-detection.ts describeMadeBy). */
  made?: string;
  /** Error code only: messages may quote server text, and the status file may be world-readable. */
  errorCode?: string;
}

export interface PassOutcome {
  startedAt: Date;
  finishedAt: Date;
  exitCode: number;
  /**
   * Undefined when the pass failed before it knew its drives (job file, repository or accounts unreadable):
   * the drives keep their previous entries, so their last success still ages and alerts fire.
   */
  drives?: DrivePass[];
  /** Why the whole pass failed, as an error code, when it did. */
  errorCode?: string;
}

const iso = z.string();
const bytes = z.number().int().min(0);
const driveStatusSchema = z.object({
  drive: z.string(),
  account: z.string().optional(),
  uuid: z.string().optional(),
  lastSuccess: iso.optional(),
  lastDurationSeconds: z.number().min(0).optional(),
  bytesRead: bytes.optional(),
  bytesStored: bytes.optional(),
  bytesWritten: bytes.optional(),
  lastSnapshot: z.string().optional(),
  made: z.string().optional(),
  lastAttempt: iso,
  lastAttemptOk: z.boolean(),
  failuresTotal: z.number().int().min(0),
  consecutiveFailures: z.number().int().min(0),
  lastFailure: iso.optional(),
  lastErrorCode: z.string().optional(),
});
export const runStatusSchema = z.object({
  version: z.literal(1),
  job: z.string(),
  lastPass: z.object({ startedAt: iso, finishedAt: iso, exitCode: z.number().int(), ok: z.boolean(), errorCode: z.string().optional() }),
  passes: z.number().int().min(0),
  drives: z.array(driveStatusSchema),
});

export type DriveStatus = z.infer<typeof driveStatusSchema>;
export type RunStatus = z.infer<typeof runStatusSchema>;

/** A status file's content, or undefined when it is not one (then history starts again). */
export function parseRunStatus(text: string): RunStatus | undefined {
  try {
    const parsed = runStatusSchema.safeParse(JSON.parse(text));
    return parsed.success ? parsed.data : undefined;
  } catch {
    return undefined;
  }
}

/** The status after `pass`, carrying each drive's history from `previous`. */
export function mergePass(job: string, previous: RunStatus | undefined, pass: PassOutcome): RunStatus {
  const sameJob = previous?.job === job;
  const before = new Map((sameJob ? previous.drives : []).map((d) => [d.drive, d]));
  const drives = (pass.drives ?? []).map((p): DriveStatus => {
    const old = before.get(p.drive);
    const attempt = p.finishedAt.toISOString();
    const status: DriveStatus = {
      ...(old ?? {}),
      drive: p.drive,
      lastAttempt: attempt,
      lastAttemptOk: p.ok,
      failuresTotal: (old?.failuresTotal ?? 0) + (p.ok ? 0 : 1),
      consecutiveFailures: p.ok ? 0 : (old?.consecutiveFailures ?? 0) + 1,
    };
    if (p.account !== undefined) status.account = p.account;
    if (p.uuid !== undefined) status.uuid = p.uuid;
    if (p.ok) {
      status.lastSuccess = attempt;
      status.lastDurationSeconds = Math.max(0, (p.finishedAt.getTime() - p.startedAt.getTime()) / 1000);
      setOrDelete(status, 'bytesRead', p.bytesRead);
      setOrDelete(status, 'bytesStored', p.bytesStored);
      setOrDelete(status, 'bytesWritten', p.bytesWritten);
      setOrDelete(status, 'lastSnapshot', p.snapshot);
      setOrDelete(status, 'made', p.made);
    } else {
      status.lastFailure = attempt;
      setOrDelete(status, 'lastErrorCode', p.errorCode ?? 'INTERNAL');
    }
    return status;
  });
  const lastPass: RunStatus['lastPass'] = {
    startedAt: pass.startedAt.toISOString(),
    finishedAt: pass.finishedAt.toISOString(),
    exitCode: pass.exitCode,
    ok: pass.exitCode === 0,
  };
  if (pass.errorCode !== undefined) lastPass.errorCode = pass.errorCode;
  return {
    version: 1,
    job,
    lastPass,
    passes: (sameJob ? previous.passes : 0) + 1,
    drives: pass.drives ? drives : sameJob ? previous.drives : [],
  };
}

function setOrDelete<K extends keyof DriveStatus>(status: DriveStatus, key: K, value: DriveStatus[K] | undefined): void {
  if (value === undefined) delete status[key];
  else status[key] = value;
}

export function renderStatusJson(status: RunStatus): string {
  return `${JSON.stringify(status, null, 2)}\n`;
}

// ---- Prometheus text exposition format 0.0.4 ---------------------------------------------------------

/** Label values escape backslash, double quote and line feed (and nothing else). */
export function escapeLabelValue(value: string): string {
  return value.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
}

/** HELP text escapes backslash and line feed. */
export function escapeHelp(text: string): string {
  return text.replace(/\\/g, '\\\\').replace(/\n/g, '\\n');
}

/** Sample values as Prometheus reads them: Go float syntax, with NaN and ±Inf spelled its way. */
export function formatSampleValue(value: number): string {
  if (Number.isNaN(value)) return 'NaN';
  if (value === Number.POSITIVE_INFINITY) return '+Inf';
  if (value === Number.NEGATIVE_INFINITY) return '-Inf';
  return String(value);
}

interface Family {
  name: string;
  type: 'gauge' | 'counter';
  help: string;
  value: (d: DriveStatus) => number | undefined;
}

const seconds = (text: string | undefined): number | undefined => (text === undefined ? undefined : new Date(text).getTime() / 1000);

const DRIVE_FAMILIES: Family[] = [
  { name: 'drivesnap_drive_last_success_timestamp_seconds', type: 'gauge', help: 'Unix time of the last successful backup of the drive.', value: (d) => seconds(d.lastSuccess) },
  { name: 'drivesnap_drive_last_duration_seconds', type: 'gauge', help: 'How long the last successful backup of the drive took.', value: (d) => d.lastDurationSeconds },
  { name: 'drivesnap_drive_last_read_bytes', type: 'gauge', help: 'Bytes read from the drive by its last successful backup.', value: (d) => d.bytesRead },
  { name: 'drivesnap_drive_last_stored_bytes', type: 'gauge', help: 'Bytes of the drive covered by its last snapshot.', value: (d) => d.bytesStored },
  { name: 'drivesnap_drive_last_written_bytes', type: 'gauge', help: 'New bytes written to the repository by the last successful backup of the drive.', value: (d) => d.bytesWritten },
  { name: 'drivesnap_drive_last_attempt_timestamp_seconds', type: 'gauge', help: 'Unix time of the last backup attempt of the drive.', value: (d) => seconds(d.lastAttempt) },
  { name: 'drivesnap_drive_last_attempt_success', type: 'gauge', help: '1 if the last backup attempt of the drive succeeded, else 0.', value: (d) => (d.lastAttemptOk ? 1 : 0) },
  { name: 'drivesnap_drive_failures_total', type: 'counter', help: 'Failed backups of the drive since the status file was started.', value: (d) => d.failuresTotal },
  { name: 'drivesnap_drive_consecutive_failures', type: 'gauge', help: 'Failed backups of the drive since its last success.', value: (d) => d.consecutiveFailures },
  { name: 'drivesnap_drive_last_failure_timestamp_seconds', type: 'gauge', help: 'Unix time of the last failed backup of the drive.', value: (d) => seconds(d.lastFailure) },
];

function labels(pairs: Array<[string, string | undefined]>): string {
  const text = pairs.filter(([, v]) => v !== undefined).map(([k, v]) => `${k}="${escapeLabelValue(v!)}"`);
  return `{${text.join(',')}}`;
}

function family(name: string, type: string, help: string, samples: string[]): string {
  return `# HELP ${name} ${escapeHelp(help)}\n# TYPE ${name} ${type}\n${samples.join('')}`;
}

/**
 * The text a node_exporter textfile collector (or any scraper of the format) reads: one HELP and TYPE per
 * family, its samples grouped under it, no timestamps (the collector refuses them), a final line feed.
 * Labels: `job_file` (which job), `drive` (its label in the job), `account` and `uuid` when known. A value
 * never known (no success yet) has no sample, rather than a 0 that would read as 1970.
 */
export function renderPrometheus(status: RunStatus): string {
  const job: [string, string] = ['job_file', status.job];
  const out: string[] = [];
  for (const f of DRIVE_FAMILIES) {
    const samples: string[] = [];
    for (const d of status.drives) {
      const v = f.value(d);
      if (v === undefined || Number.isNaN(v)) continue;
      samples.push(`${f.name}${labels([job, ['drive', d.drive], ['account', d.account], ['uuid', d.uuid]])} ${formatSampleValue(v)}\n`);
    }
    out.push(family(f.name, f.type, f.help, samples));
  }
  const passLabels = labels([job]);
  const pass = status.lastPass;
  out.push(
    family('drivesnap_run_last_pass_timestamp_seconds', 'gauge', 'Unix time the last pass of the job finished.', [
      `drivesnap_run_last_pass_timestamp_seconds${passLabels} ${formatSampleValue(seconds(pass.finishedAt)!)}\n`,
    ]),
    family('drivesnap_run_last_pass_duration_seconds', 'gauge', 'How long the last pass of the job took.', [
      `drivesnap_run_last_pass_duration_seconds${passLabels} ${formatSampleValue((Date.parse(pass.finishedAt) - Date.parse(pass.startedAt)) / 1000)}\n`,
    ]),
    family('drivesnap_run_last_pass_exit_code', 'gauge', 'Exit code of the last pass (0 ok, 3 some drives failed, 1 all failed or check found problems).', [
      `drivesnap_run_last_pass_exit_code${passLabels} ${pass.exitCode}\n`,
    ]),
  );
  return out.join('');
}

// ---- healthchecks-style ping ---------------------------------------------------------------------------

export interface PingConfig {
  /** Called after a pass that exited 0. */
  url: string;
  /** Called after any other pass; default `url + '/fail'` (healthchecks.io). */
  failureUrl?: string;
  method: 'GET' | 'POST';
}

/** Where to ping after a pass with this exit code. */
export function pingTarget(config: PingConfig, exitCode: number): string {
  if (exitCode === 0) return config.url;
  return config.failureUrl ?? `${config.url.replace(/\/+$/, '')}/fail`;
}

/**
 * The POST body: counts, and the labels and error codes of the failed drives. No error messages (they may
 * quote server text), no repository location, nothing from the environment.
 */
export function pingBody(status: RunStatus): string {
  const failed = status.drives.filter((d) => !d.lastAttemptOk);
  const pass = status.lastPass;
  const head = `drivesnap run ${status.job}: exit ${pass.exitCode}`;
  if (pass.errorCode !== undefined) return `${head}, the pass failed before its drives: ${pass.errorCode}\n`;
  const lines = [`${head}, ${status.drives.length - failed.length} of ${status.drives.length} drives backed up`];
  for (const d of failed) lines.push(`failed ${d.drive}: ${d.lastErrorCode ?? 'INTERNAL'}`);
  return `${lines.join('\n')}\n`;
}

/** A URL fit to show in a message: scheme and host only, since ping URLs carry their secret in the path. */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    return `${u.protocol}//${u.host}/…`;
  } catch {
    return '(invalid URL)';
  }
}
