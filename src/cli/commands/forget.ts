/**
 * `drivesnap forget`: apply a retention policy per drive (restic's rules, docs/retention.md), deleting the
 * manifests of snapshots no rule keeps; `--prune` then deletes the chunks nothing references any more.
 */
import type { CommandModule } from 'yargs';
import { UsageError } from '../../errors.js';
import { type ForgetResult, forget } from '../../ops/forget.js';
import { prune } from '../../ops/prune.js';
import type { GroupBy, RetentionPolicy } from '../../ops/retention.js';
import { formatBytes } from '../../util/size.js';
import { Output, table } from '../output.js';
import { type RepoArgs, withRepoOptions, withRepository } from '../repo-context.js';
import { type NumberSpec, waitLock, withNumbers } from '../options.js';

const keep = (description: string): NumberSpec => ({ description, min: 0, special: { value: -1, meaning: 'unlimited' } });

interface ForgetArgs extends RepoArgs {
  'keep-last'?: number;
  'keep-hourly'?: number;
  'keep-daily'?: number;
  'keep-weekly'?: number;
  'keep-monthly'?: number;
  'keep-yearly'?: number;
  'keep-within'?: string;
  'keep-tag'?: string[];
  'group-by': string;
  'time-zone': string;
  'dry-run': boolean;
  prune: boolean;
  'wait-lock'?: number;
}

const GROUP_KEYS: readonly GroupBy[] = ['drive', 'tag', 'host'];

export function parseGroupBy(text: string): GroupBy[] {
  if (text.trim() === '') return [];
  const parts = text.split(',').map((p) => p.trim());
  for (const p of parts) {
    if (!(GROUP_KEYS as string[]).includes(p)) throw new UsageError(`--group-by takes drive, tag, host or a comma list of them (got ${p})`);
  }
  return parts as GroupBy[];
}

export function policyFromArgs(args: ForgetArgs): RetentionPolicy {
  const policy: RetentionPolicy = {
    last: args['keep-last'],
    hourly: args['keep-hourly'],
    daily: args['keep-daily'],
    weekly: args['keep-weekly'],
    monthly: args['keep-monthly'],
    yearly: args['keep-yearly'],
    within: args['keep-within'],
    keepTags: args['keep-tag'],
  };
  for (const [rule, value] of Object.entries(policy)) {
    // yargs turns `--keep-daily x` into NaN: say so instead of treating it as "rule off".
    if (typeof value === 'number' && !Number.isInteger(value)) throw new UsageError(`--keep-${rule} takes a whole number, or -1 for unlimited`);
  }
  return policy;
}


export const command: CommandModule<object, ForgetArgs> = {
  command: 'forget',
  describe: 'Apply a retention policy per drive: delete the snapshots no --keep-* rule keeps',
  builder: (y) =>
    withNumbers(withRepoOptions(y), {
      'keep-last': keep('Keep the N newest snapshots (-1: all)'),
      'keep-hourly': keep('Keep the newest snapshot of each of the last N hours with one'),
      'keep-daily': keep('Keep the newest snapshot of each of the last N days with one'),
      'keep-weekly': keep('Keep the newest snapshot of each of the last N weeks with one'),
      'keep-monthly': keep('Keep the newest snapshot of each of the last N months with one'),
      'keep-yearly': keep('Keep the newest snapshot of each of the last N years with one'),
      'wait-lock': waitLock(),
    })
      .option('keep-within', { type: 'string', description: 'Keep every snapshot within DURATION of the newest (e.g. 7d, 2w, 1y2m)' })
      .option('keep-tag', { type: 'string', array: true, description: 'Keep every snapshot carrying this tag (repeatable)' })
      .option('group-by', { type: 'string', default: 'drive', description: 'Apply the policy per drive, tag, host, or a comma list' })
      .option('time-zone', { type: 'string', default: 'UTC', description: 'IANA zone for hour/day/week/month/year buckets' })
      .option('dry-run', { type: 'boolean', default: false, description: 'Only list what would stay and what would go, and why' })
      .option('prune', { type: 'boolean', default: false, description: 'Run prune afterwards to delete unreferenced chunks' }) as never,
  handler: async (args) => {
    const out = new Output(args);
    const policy = policyFromArgs(args);
    const groupBy = parseGroupBy(args['group-by']);
    const waitMs = args['wait-lock'] !== undefined ? args['wait-lock'] * 1000 : undefined;
    await withRepository(args, async (repo) => {
      const r = await forget(repo, policy, { groupBy, timeZone: args['time-zone'], dryRun: args['dry-run'], waitMs });
      out.result({ event: 'forget', ...r }, describeForget(r));
      if (args.prune && !args['dry-run']) {
        const p = await prune(repo, { waitMs });
        out.result(
          { event: 'prune', ...p },
          `prune: deleted ${p.deleted} unreferenced chunk(s), freed ${formatBytes(p.freedBytes)}`,
        );
      }
    });
  },
};

function describeForget(r: ForgetResult): string {
  if (r.groups.length === 0) return 'no snapshots';
  const lines: string[] = [];
  for (const g of r.groups) {
    const first = g.keep[0] ?? g.remove[0]!;
    lines.push(`${g.group === first.driveUuid ? `drive ${first.driveName} (${g.group})` : `group ${g.group || '(all)'}`}:`);
    const rows = [...g.keep, ...g.remove]
      .sort((a, b) => (a.time < b.time ? 1 : a.time > b.time ? -1 : 0))
      .map((e) => [e.id.slice(0, 12), e.time.replace('T', ' ').slice(0, 19), e.reasons.length ? 'keep' : 'remove', e.reasons.join(', ')]);
    lines.push(table(['ID', 'Time', 'Action', 'Reasons'], rows), '');
  }
  const verb = r.dryRun ? 'would remove' : 'removed';
  lines.push(`${verb} ${r.removed} snapshot(s), keeping ${r.kept}${r.dryRun ? ' (dry run: nothing deleted)' : ''}`);
  return lines.join('\n');
}
