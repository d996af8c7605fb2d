import { describe, expect, it } from 'vitest';
import {
  type DrivePass,
  type PassOutcome,
  escapeHelp,
  escapeLabelValue,
  formatSampleValue,
  mergePass,
  parseRunStatus,
  pingBody,
  pingTarget,
  redactUrl,
  renderPrometheus,
  renderStatusJson,
} from '../../src/ops/run-status.js';

const t = (iso: string) => new Date(iso);
const okPass = (drive: string, extra: Partial<DrivePass> = {}): DrivePass => ({
  drive,
  ok: true,
  startedAt: t('2026-12-01T03:00:00Z'),
  finishedAt: t('2026-12-01T03:01:30Z'),
  bytesRead: 100,
  bytesStored: 4096,
  bytesWritten: 50,
  snapshot: 'ab'.repeat(32),
  ...extra,
});
const failPass = (drive: string, at: string, code = 'EH_NOT_FOUND'): DrivePass => ({ drive, ok: false, startedAt: t(at), finishedAt: t(at), errorCode: code });
const pass = (drives: DrivePass[], exitCode = 0, end = '2026-12-01T03:02:00Z', start = '2026-12-01T03:00:00Z'): PassOutcome => ({
  startedAt: t(start),
  finishedAt: t(end),
  exitCode,
  drives,
});

describe('mergePass', () => {
  it('records a success with its duration and byte counts', () => {
    const s = mergePass('jobs.yaml', undefined, pass([okPass('eh:web-1', { account: 'eh', uuid: 'u1', made: 'full read' })]));
    expect(s.drives).toEqual([
      {
        drive: 'eh:web-1',
        account: 'eh',
        uuid: 'u1',
        lastAttempt: '2026-12-01T03:01:30.000Z',
        lastAttemptOk: true,
        lastSuccess: '2026-12-01T03:01:30.000Z',
        lastDurationSeconds: 90,
        bytesRead: 100,
        bytesStored: 4096,
        bytesWritten: 50,
        lastSnapshot: 'ab'.repeat(32),
        made: 'full read',
        failuresTotal: 0,
        consecutiveFailures: 0,
      },
    ]);
    expect(s.lastPass).toEqual({ startedAt: '2026-12-01T03:00:00.000Z', finishedAt: '2026-12-01T03:02:00.000Z', exitCode: 0, ok: true });
    expect(s.passes).toBe(1);
  });

  it('keeps the last success through failing passes and counts the failures', () => {
    let s = mergePass('j', undefined, pass([okPass('eh:a')]));
    s = mergePass('j', s, pass([failPass('eh:a', '2026-12-02T03:00:00Z')], 1));
    s = mergePass('j', s, pass([failPass('eh:a', '2026-12-03T03:00:00Z', 'EH_AUTH')], 1));
    const [d] = s.drives;
    expect(d).toMatchObject({
      lastSuccess: '2026-12-01T03:01:30.000Z',
      lastAttemptOk: false,
      lastFailure: '2026-12-03T03:00:00.000Z',
      lastErrorCode: 'EH_AUTH',
      failuresTotal: 2,
      consecutiveFailures: 2,
      bytesRead: 100,
    });
    expect(s.passes).toBe(3);
    s = mergePass('j', s, pass([okPass('eh:a')]));
    expect(s.drives[0]).toMatchObject({ failuresTotal: 2, consecutiveFailures: 0, lastAttemptOk: true, lastFailure: '2026-12-03T03:00:00.000Z' });
  });

  it('drops drives that left the job, and the history of another job', () => {
    const s = mergePass('j', undefined, pass([failPass('eh:a', '2026-12-01T03:00:00Z'), okPass('eh:b')], 3));
    expect(mergePass('j', s, pass([okPass('eh:b')])).drives.map((d) => d.drive)).toEqual(['eh:b']);
    const other = mergePass('k', s, pass([failPass('eh:a', '2026-12-02T03:00:00Z')], 1));
    expect(other.drives[0]!.failuresTotal).toBe(1);
    expect(other.passes).toBe(1);
  });

  it('keeps every drive as it was when the pass failed before knowing its drives', () => {
    const s = mergePass('j', undefined, pass([okPass('eh:a')]));
    const down = mergePass('j', s, { startedAt: t('2026-12-02T03:00:00Z'), finishedAt: t('2026-12-02T03:00:01Z'), exitCode: 1, errorCode: 'REPO_UNREACHABLE' });
    expect(down.drives).toEqual(s.drives);
    expect(down.lastPass).toMatchObject({ ok: false, exitCode: 1, errorCode: 'REPO_UNREACHABLE' });
    expect(down.passes).toBe(2);
    expect(pingBody(down)).toBe('drivesnap run j: exit 1, the pass failed before its drives: REPO_UNREACHABLE\n');
    expect(parseRunStatus(renderStatusJson(down))).toEqual(down);
  });

  it('round-trips through the JSON file, and refuses what is not a status', () => {
    const s = mergePass('j', undefined, pass([okPass('eh:a'), failPass('eh:b', '2026-12-01T03:00:00Z')], 3));
    expect(parseRunStatus(renderStatusJson(s))).toEqual(s);
    expect(parseRunStatus('{"version":2}')).toBeUndefined();
    expect(parseRunStatus('not json')).toBeUndefined();
  });
});

describe('Prometheus text format', () => {
  it('escapes label values: backslash, double quote, line feed, nothing else', () => {
    expect(escapeLabelValue('a\\b"c\nd\te')).toBe('a\\\\b\\"c\\nd\te');
    expect(escapeHelp('a\\b"c\nd')).toBe('a\\\\b"c\\nd');
  });

  it('spells special values as Prometheus does', () => {
    expect(formatSampleValue(Number.NaN)).toBe('NaN');
    expect(formatSampleValue(Number.POSITIVE_INFINITY)).toBe('+Inf');
    expect(formatSampleValue(Number.NEGATIVE_INFINITY)).toBe('-Inf');
    expect(formatSampleValue(1.5)).toBe('1.5');
    expect(formatSampleValue(1796094090)).toBe('1796094090');
  });

  it('renders the exact exposition text', () => {
    let s = mergePass('jobs.yaml', undefined, pass([okPass('eh:a', { account: 'eh', uuid: 'u1' })]));
    s = mergePass('jobs.yaml', s, pass([failPass('eh:a', '2026-12-02T03:00:00Z'), failPass('eh:"new"\\x', '2026-12-02T03:00:00Z')], 1, '2026-12-02T03:00:10Z', '2026-12-02T03:00:00Z'));
    const a = 'job_file="jobs.yaml",drive="eh:a",account="eh",uuid="u1"';
    const b = 'job_file="jobs.yaml",drive="eh:\\"new\\"\\\\x"';
    expect(renderPrometheus(s)).toBe(
      [
        '# HELP drivesnap_drive_last_success_timestamp_seconds Unix time of the last successful backup of the drive.',
        '# TYPE drivesnap_drive_last_success_timestamp_seconds gauge',
        `drivesnap_drive_last_success_timestamp_seconds{${a}} 1796094090`,
        '# HELP drivesnap_drive_last_duration_seconds How long the last successful backup of the drive took.',
        '# TYPE drivesnap_drive_last_duration_seconds gauge',
        `drivesnap_drive_last_duration_seconds{${a}} 90`,
        '# HELP drivesnap_drive_last_read_bytes Bytes read from the drive by its last successful backup.',
        '# TYPE drivesnap_drive_last_read_bytes gauge',
        `drivesnap_drive_last_read_bytes{${a}} 100`,
        '# HELP drivesnap_drive_last_stored_bytes Bytes of the drive covered by its last snapshot.',
        '# TYPE drivesnap_drive_last_stored_bytes gauge',
        `drivesnap_drive_last_stored_bytes{${a}} 4096`,
        '# HELP drivesnap_drive_last_written_bytes New bytes written to the repository by the last successful backup of the drive.',
        '# TYPE drivesnap_drive_last_written_bytes gauge',
        `drivesnap_drive_last_written_bytes{${a}} 50`,
        '# HELP drivesnap_drive_last_attempt_timestamp_seconds Unix time of the last backup attempt of the drive.',
        '# TYPE drivesnap_drive_last_attempt_timestamp_seconds gauge',
        `drivesnap_drive_last_attempt_timestamp_seconds{${a}} 1796180400`,
        `drivesnap_drive_last_attempt_timestamp_seconds{${b}} 1796180400`,
        '# HELP drivesnap_drive_last_attempt_success 1 if the last backup attempt of the drive succeeded, else 0.',
        '# TYPE drivesnap_drive_last_attempt_success gauge',
        `drivesnap_drive_last_attempt_success{${a}} 0`,
        `drivesnap_drive_last_attempt_success{${b}} 0`,
        '# HELP drivesnap_drive_failures_total Failed backups of the drive since the status file was started.',
        '# TYPE drivesnap_drive_failures_total counter',
        `drivesnap_drive_failures_total{${a}} 1`,
        `drivesnap_drive_failures_total{${b}} 1`,
        '# HELP drivesnap_drive_consecutive_failures Failed backups of the drive since its last success.',
        '# TYPE drivesnap_drive_consecutive_failures gauge',
        `drivesnap_drive_consecutive_failures{${a}} 1`,
        `drivesnap_drive_consecutive_failures{${b}} 1`,
        '# HELP drivesnap_drive_last_failure_timestamp_seconds Unix time of the last failed backup of the drive.',
        '# TYPE drivesnap_drive_last_failure_timestamp_seconds gauge',
        `drivesnap_drive_last_failure_timestamp_seconds{${a}} 1796180400`,
        `drivesnap_drive_last_failure_timestamp_seconds{${b}} 1796180400`,
        '# HELP drivesnap_run_last_pass_timestamp_seconds Unix time the last pass of the job finished.',
        '# TYPE drivesnap_run_last_pass_timestamp_seconds gauge',
        'drivesnap_run_last_pass_timestamp_seconds{job_file="jobs.yaml"} 1796180410',
        '# HELP drivesnap_run_last_pass_duration_seconds How long the last pass of the job took.',
        '# TYPE drivesnap_run_last_pass_duration_seconds gauge',
        'drivesnap_run_last_pass_duration_seconds{job_file="jobs.yaml"} 10',
        '# HELP drivesnap_run_last_pass_exit_code Exit code of the last pass (0 ok, 3 some drives failed, 1 all failed or check found problems).',
        '# TYPE drivesnap_run_last_pass_exit_code gauge',
        'drivesnap_run_last_pass_exit_code{job_file="jobs.yaml"} 1',
        '',
      ].join('\n'),
    );
  });

  it('every line is a comment or a well-formed sample, and every family is declared once before its samples', () => {
    const s = mergePass('j\n"x"', undefined, pass([okPass('a\nb'), failPass('c\\', '2026-12-01T03:00:00Z')], 3));
    const text = renderPrometheus(s);
    expect(text.endsWith('\n')).toBe(true);
    const declared = new Set<string>();
    const sample = /^([a-zA-Z_:][a-zA-Z0-9_:]*)\{([a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\\n]|\\[\\"n])*"(?:,[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\\n]|\\[\\"n])*")*)\} (\S+)$/;
    for (const line of text.slice(0, -1).split('\n')) {
      const type = /^# TYPE (\S+) (gauge|counter)$/.exec(line);
      if (type) {
        expect(declared.has(type[1]!)).toBe(false);
        declared.add(type[1]!);
        continue;
      }
      if (line.startsWith('# HELP ')) continue;
      const m = sample.exec(line);
      expect(m, line).not.toBeNull();
      expect(declared.has(m![1]!)).toBe(true);
    }
  });
});

describe('ping helpers', () => {
  const s = mergePass('jobs.yaml', undefined, pass([okPass('eh:a'), failPass('eh:b', '2026-12-01T03:00:00Z', 'EH_AUTH')], 3));
  it('picks the success URL on exit 0 and url/fail otherwise, or the failure URL given', () => {
    expect(pingTarget({ url: 'https://hc.example/p/abc', method: 'GET' }, 0)).toBe('https://hc.example/p/abc');
    expect(pingTarget({ url: 'https://hc.example/p/abc/', method: 'GET' }, 3)).toBe('https://hc.example/p/abc/fail');
    expect(pingTarget({ url: 'https://a/ok', failureUrl: 'https://a/bad', method: 'GET' }, 1)).toBe('https://a/bad');
  });
  it('the body names drives and error codes, never messages', () => {
    expect(pingBody(s)).toBe('drivesnap run jobs.yaml: exit 3, 1 of 2 drives backed up\nfailed eh:b: EH_AUTH\n');
  });
  it('shows only scheme and host of a ping URL', () => {
    expect(redactUrl('https://user:pw@hc.example:8443/ping/secret-uuid?x=1')).toBe('https://hc.example:8443/…');
    expect(redactUrl('nope')).toBe('(invalid URL)');
  });
});
