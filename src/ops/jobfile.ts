/**
 * Loads a job file for `drivesnap run` (format: docs/jobfile.md). YAML or JSON, both read by the yaml
 * parser so every error can name its line: `jobs.yaml:12: drives[1]: unknown key "acount"`.
 */
import { type Document, LineCounter, parseDocument, type YAMLError } from 'yaml';
import type { z } from 'zod';
import { DrivesnapError } from '../errors.js';
import { jobFileSchema } from './jobfile-schema.js';
import { lineForPath } from './jobfile-lines.js';
import type { GroupBy, RetentionPolicy } from './retention.js';

export { isDue, nextRun } from './cadence.js';

export type DriveSelector =
  | { kind: 'drive'; account: string; drive: string }
  | { kind: 'tagged'; account: string; tags: string[] }
  | { kind: 'all'; account: string };

export interface JobFile {
  /** The password itself never appears here: a file to read it from, or the environment variable holding it. */
  repository: { location: string; passwordFile?: string; passwordEnv?: string; s3Endpoint?: string };
  accounts: string[];
  drives: DriveSelector[];
  /** Added to every snapshot the job makes. */
  tags: string[];
  retention?: RetentionPolicy & { groupBy: GroupBy[] };
  prune?: { every: string };
  /** readDataSubset is a percentage, 0 < p <= 100. */
  check?: { every: string; readDataSubset?: number };
  /** Ranges in flight for one drive, and each account's connection budget shared by its drives in flight. */
  concurrency?: number;
  /** Drives backed up at once (`run --drives` overrides it). */
  parallelDrives?: number;
  /** Bytes per second. */
  bandwidthLimit?: number;
  /** Cron expression for `run --daemon`, read in `timeZone`. */
  schedule?: string;
  /** IANA zone for the schedule and retention buckets. */
  timeZone: string;
  /** An API drive unwritten since its last snapshot is still read in full this often (a duration). */
  fullReadEvery?: string;
  /** Where a pass reports how it went (./run-status-writer.ts). */
  status?: JobStatus;
}

/** A job file's `status` block: files relative to the job file, and URLs called after each pass. */
export interface JobStatus {
  file?: string;
  prometheus?: string;
  ping?: { url: string; failureUrl?: string; method: 'GET' | 'POST' };
}

export interface JobFileProblem {
  line: number;
  /** The field, e.g. `drives[1]`; empty for the file as a whole. */
  path: string;
  message: string;
}

export class JobFileError extends DrivesnapError {
  override name = 'JobFileError';
  constructor(
    readonly fileName: string,
    /** Every problem found, by line; the message names the first. */
    readonly problems: JobFileProblem[],
  ) {
    const first = problems[0]!;
    const more = problems.length > 1 ? ` (and ${problems.length - 1} more)` : '';
    super('JOBFILE_INVALID', `${formatProblem(fileName, first)}${more}`);
  }
}

export function formatProblem(fileName: string, p: JobFileProblem): string {
  return p.path === '' ? `${fileName}:${p.line}: ${p.message}` : `${fileName}:${p.line}: ${p.path}: ${p.message}`;
}

type Issue = z.core.$ZodIssue;
type Segment = string | number;

function formatPath(path: Segment[]): string {
  return path.map((s, i) => (typeof s === 'number' ? `[${s}]` : i === 0 ? s : `.${s}`)).join('');
}

function valueAt(data: unknown, path: Segment[]): { found: boolean; value: unknown } {
  let value = data;
  for (const segment of path) {
    if (value === null || typeof value !== 'object' || !Object.hasOwn(value, segment)) return { found: false, value };
    value = (value as Record<Segment, unknown>)[segment];
  }
  return { found: true, value };
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object') return 'a mapping';
  return `${typeof value} ${JSON.stringify(value)}`;
}

/** A union fails with every branch's issues; report the branch the input was meant for, if only one fits. */
function unionBranch(issue: Extract<Issue, { code: 'invalid_union' }>): Issue[] | undefined {
  const plausible = issue.errors.filter(
    (branch) => !branch.every((i) => i.code === 'invalid_type' && i.path.length === 0),
  );
  return plausible.length === 1 ? plausible[0] : undefined;
}

function problemsFor(issue: Issue, base: Segment[], doc: Document, lines: LineCounter, data: unknown): JobFileProblem[] {
  const path = [...base, ...issue.path.map((s) => (typeof s === 'symbol' ? String(s) : s))];
  if (issue.code === 'invalid_union') {
    const branch = unionBranch(issue);
    if (branch) return branch.flatMap((inner) => problemsFor(inner, path, doc, lines, data));
    // No branch fits the input's type: the union's own message says what is accepted.
    return [{ line: lineForPath(doc, lines, path), path: formatPath(path), message: issue.message }];
  }
  if (issue.code === 'unrecognized_keys') {
    return issue.keys.map((key) => ({
      line: lineForPath(doc, lines, path, key),
      path: formatPath(path),
      message:
        key === 'password'
          ? 'a job file never holds the password: use passwordFile or passwordEnv'
          : `unknown key "${key}"`,
    }));
  }
  let message = issue.message;
  if (issue.code === 'invalid_type' && message.startsWith('Invalid input')) {
    const at = valueAt(data, path);
    message = at.found ? `expected ${issue.expected}, got ${describe(at.value)}` : 'required field is missing';
  }
  return [{ line: lineForPath(doc, lines, path), path: formatPath(path), message }];
}

function syntaxProblem(error: YAMLError): JobFileProblem {
  const firstLine = error.message.split('\n')[0] ?? error.message;
  return {
    line: error.linePos?.[0].line ?? 1,
    path: '',
    message: firstLine.replace(/ at line \d+, column \d+:?$/, ''),
  };
}

/** Parses and validates a job file's text; throws a JobFileError (code JOBFILE_INVALID, exit code 2). */
export function loadJobFile(text: string, fileName: string): JobFile {
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines });
  if (doc.errors.length > 0) {
    throw new JobFileError(fileName, doc.errors.map(syntaxProblem).sort((a, b) => a.line - b.line));
  }
  if (doc.contents === null) {
    throw new JobFileError(fileName, [{ line: 1, path: '', message: 'the job file is empty; see docs/jobfile.md' }]);
  }
  const data: unknown = doc.toJS();
  const result = jobFileSchema.safeParse(data);
  if (!result.success) {
    const problems = result.error.issues.flatMap((issue) => problemsFor(issue, [], doc, lines, data));
    // On one line, an unknown key comes first: a misspelt key usually explains the missing one beside it.
    const rank = (p: JobFileProblem) => (p.message.startsWith('unknown key') ? 0 : 1);
    throw new JobFileError(fileName, problems.sort((a, b) => a.line - b.line || rank(a) - rank(b)));
  }
  return result.data;
}
