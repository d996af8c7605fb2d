/**
 * The job file's shape (docs/jobfile.md), checked with zod. Objects are strict so a misspelt key is an
 * error rather than a silently ignored setting. Messages leave out the field: the loader prefixes its path.
 */
import { z } from 'zod';
import { parseSize } from '../util/size.js';
import { assertTimeZone } from './calendar.js';
import { cronProblem } from './cadence.js';
import { isZeroDuration, parseDuration } from './duration.js';
import { isPolicyEmpty } from './retention.js';

const ACCOUNT_RE = /^[A-Za-z0-9][A-Za-z0-9_.-]*$/;
const LOCATION_RE = /^([A-Za-z0-9][A-Za-z0-9_.-]*):(.+)$/;
const ENV_NAME_RE = /^[A-Za-z_][A-Za-z0-9_]*$/;
const TAG_RE = /^[^\s,]+$/;
const PERCENT_RE = /^(\d+(?:\.\d+)?)%$/;

const accountName = z.string().regex(ACCOUNT_RE, {
  error: 'expected an account name from the accounts config (letters, digits, _ . -)',
});

const tag = z.string().regex(TAG_RE, { error: 'expected a tag without spaces or commas' });

const duration = z.string().superRefine((text, ctx) => {
  try {
    if (isZeroDuration(parseDuration(text))) ctx.addIssue({ code: 'custom', message: 'must be longer than zero' });
  } catch (err) {
    ctx.addIssue({ code: 'custom', message: err instanceof Error ? err.message : String(err) });
  }
});

function isDuration(text: string): boolean {
  try {
    parseDuration(text);
    return true;
  } catch {
    return false;
  }
}

function wholeNumber(min: number, max: number) {
  const error = `expected a whole number from ${min} to ${max}`;
  return z.int({ error }).min(min, { error }).max(max, { error });
}

const count = z.int({ error: 'expected a whole number, or -1 for unlimited' }).min(-1, {
  error: 'expected a whole number, or -1 for unlimited',
});

const driveLocation = z
  .string()
  .regex(LOCATION_RE, { error: 'expected ACCOUNT:DRIVE, e.g. "eh:web-1"' })
  .transform((text) => {
    const [, account, drive] = LOCATION_RE.exec(text)!;
    return { kind: 'drive' as const, account: account!, drive: drive! };
  });

const driveSelector = z
  .strictObject({
    account: accountName,
    tags: z.array(tag).min(1, { error: 'expected at least one tag' }).optional(),
    all: z.literal(true, { error: 'expected true (leave the entry out to back up nothing)' }).optional(),
  })
  .superRefine((entry, ctx) => {
    if ((entry.tags === undefined) === (entry.all === undefined)) {
      ctx.addIssue({ code: 'custom', message: 'give exactly one of tags: [...] or all: true' });
    }
  })
  .transform((entry) =>
    entry.tags ? { kind: 'tagged' as const, account: entry.account, tags: entry.tags } : { kind: 'all' as const, account: entry.account },
  );

const DRIVE_ENTRY_HINT = 'expected "ACCOUNT:DRIVE", { account, tags: [...] } or { account, all: true }';

const driveEntry = z.union([driveLocation, driveSelector], { error: DRIVE_ENTRY_HINT });

const repository = z
  .strictObject({
    location: z.string().min(1, { error: 'expected a directory or s3://BUCKET/PREFIX' }),
    passwordFile: z.string().min(1, { error: 'expected a file path' }).optional(),
    passwordEnv: z.string().regex(ENV_NAME_RE, { error: 'expected an environment variable name' }).optional(),
    s3Endpoint: z.url({ error: 'expected a URL such as https://s3.example.com' }).optional(),
  })
  .superRefine((repo, ctx) => {
    if (repo.passwordFile !== undefined && repo.passwordEnv !== undefined) {
      ctx.addIssue({ code: 'custom', message: 'give passwordFile or passwordEnv, not both' });
    }
  });

const retention = z
  .strictObject({
    last: count.optional(),
    hourly: count.optional(),
    daily: count.optional(),
    weekly: count.optional(),
    monthly: count.optional(),
    yearly: count.optional(),
    within: duration.optional(),
    keepTags: z.array(tag).optional(),
    groupBy: z.array(z.enum(['drive', 'tag', 'host'])).default(['drive']),
  })
  .superRefine((policy, ctx) => {
    // zod runs this even when a field failed; a bad `within` is reported there already.
    if (policy.within !== undefined && !isDuration(policy.within)) return;
    if (isPolicyEmpty(policy)) {
      ctx.addIssue({
        code: 'custom',
        message: 'needs at least one rule: last, hourly, daily, weekly, monthly, yearly, within or keepTags',
      });
    }
  });

const percent = z
  .string({ error: 'expected a percentage such as "5%"' })
  .regex(PERCENT_RE, { error: 'expected a percentage such as "5%"' })
  .transform((text) => Number.parseFloat(text))
  .refine((value) => value > 0 && value <= 100, { error: 'expected a percentage above 0% and at most 100%' });

const bytesPerSecond = z
  .union([z.string(), z.number()], { error: 'expected bytes per second such as "50M"' })
  .refine((value) => (parseSize(value) ?? 0) > 0, {
    error: 'expected bytes per second such as "50M" (a number with optional k, M, G or T)',
  })
  .transform((value) => parseSize(value)!);

const cron = z.string().superRefine((expression, ctx) => {
  const problem = cronProblem(expression);
  if (problem) ctx.addIssue({ code: 'custom', message: problem });
});

const timeZone = z.string().superRefine((zone, ctx) => {
  try {
    assertTimeZone(zone);
  } catch (err) {
    ctx.addIssue({ code: 'custom', message: err instanceof Error ? err.message : String(err) });
  }
});

const filePath = z.string().min(1, { error: 'expected a file path' });

const pingUrl = z
  .url({ protocol: /^https?$/, error: 'expected an http(s) URL such as https://hc-ping.com/UUID' })
  .refine(
    (text) => {
      const u = new URL(text);
      return u.username === '' && u.password === '';
    },
    { error: 'put no user name or password in the URL (they would be sent with every ping)' },
  );

const status = z
  .strictObject({
    file: filePath.optional(),
    prometheus: filePath.optional(),
    ping: z
      .strictObject({
        url: pingUrl,
        failureUrl: pingUrl.optional(),
        method: z.enum(['GET', 'POST'], { error: 'expected GET or POST' }).default('POST'),
      })
      .optional(),
  })
  .superRefine((s, ctx) => {
    if (s.file === undefined && s.prometheus === undefined && s.ping === undefined) {
      ctx.addIssue({ code: 'custom', message: 'give at least one of file, prometheus or ping' });
    }
  });

export const jobFileSchema = z
  .strictObject({
    repository,
    accounts: z.array(accountName).min(1, { error: 'expected at least one account' }).optional(),
    drives: z.array(driveEntry).min(1, { error: 'expected at least one drive' }),
    tags: z.array(tag).default([]),
    retention: retention.optional(),
    prune: z.strictObject({ every: duration }).optional(),
    check: z.strictObject({ every: duration, readDataSubset: percent.optional() }).optional(),
    concurrency: wholeNumber(1, 256).optional(),
    parallelDrives: wholeNumber(1, 64).optional(),
    bandwidthLimit: bytesPerSecond.optional(),
    schedule: cron.optional(),
    fullReadEvery: duration.optional(),
    status: status.optional(),
    timeZone: timeZone.default('UTC'),
  })
  .superRefine((job, ctx) => {
    if (!job.accounts) return;
    job.drives.forEach((drive: unknown, index) => {
      // zod runs this even when an entry failed (and was not transformed); those are reported already.
      const account = typeof drive === 'object' && drive !== null && 'account' in drive ? drive.account : undefined;
      if (typeof account === 'string' && !job.accounts?.includes(account)) {
        ctx.addIssue({
          code: 'custom',
          path: ['drives', index],
          message: `account "${account}" is not listed in accounts`,
        });
      }
    });
  })
  .transform((job) => ({
    ...job,
    // Without an accounts list, the accounts are those the drives name, in order of first mention.
    accounts: job.accounts ?? [...new Set(job.drives.map((drive) => drive.account))],
  }));

export type JobFileSchemaOutput = z.output<typeof jobFileSchema>;
