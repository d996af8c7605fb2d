/**
 * `drivesnap drives`: what the vendor's shell tool did for drives (cli.md).
 *   drives ACCOUNT: [list]                 the account's drives
 *   drives info LOC                        one drive's info (LOC = ACCOUNT:DRIVE, name or UUID)
 *   drives create ACCOUNT:NAME --size 10G  a new empty drive
 *   drives destroy LOC                     delete a drive
 */
import type { CommandModule } from 'yargs';
import type { ApiClient } from '../../api/client.js';
import type { DriveInfo } from '../../api/drive-info.js';
import { openClient, resolveAccount } from '../../config/accounts.js';
import { expectLocation } from '../../config/locations.js';
import { UsageError } from '../../errors.js';
import { resolveDrive } from '../../ops/resolve-drive.js';
import { formatBytes, parseSize } from '../../util/size.js';
import { Output, table } from '../output.js';

interface DrivesArgs {
  first: string;
  second?: string;
  size?: string;
  json?: boolean;
  quiet?: boolean;
}

const ACTIONS = ['list', 'info', 'create', 'destroy'] as const;
type Action = (typeof ACTIONS)[number];

/** `drives lon:` / `drives lon: list` / `drives list lon:` all list; the others take the action first. */
export function parseDrivesArgs(first: string, second: string | undefined): { action: Action; target: string } {
  if ((ACTIONS as readonly string[]).includes(first)) {
    if (second === undefined) throw new UsageError(`drives ${first} needs a location, e.g. drives ${first} lon:${first === 'list' ? '' : 'mydrive'}`);
    return { action: first as Action, target: second };
  }
  if (second !== undefined && second !== 'list') {
    throw new UsageError(`drives ${first} ${second}: expected \`drives ACCOUNT: [list]\` or \`drives info|create|destroy LOC\``);
  }
  return { action: 'list', target: first };
}

/** The JSON form of a drive: typed fields, plus every key the server sent. */
export function driveJson(d: DriveInfo): Record<string, unknown> {
  const { raw, ...typed } = d;
  return { ...typed, keys: raw };
}

function driveRow(d: DriveInfo): (string | number)[] {
  const state = d.imaging ? `imaging ${d.imaging.percent !== undefined ? `${d.imaging.percent}%` : 'queued'}` : d.claimed.length > 0 ? 'claimed' : d.status;
  return [d.uuid, formatBytes(d.size), state, d.name];
}

function driveText(d: DriveInfo): string {
  const rows: [string, string][] = [
    ['uuid', d.uuid],
    ['name', d.name],
    ['size', `${formatBytes(d.size)} (${d.size} bytes)`],
    ['status', d.status],
  ];
  if (d.imaging) rows.push(['imaging', d.imaging.percent !== undefined ? `${d.imaging.percent}%` : 'queued']);
  if (d.claimed.length > 0) rows.push(['claimed', d.claimed.join(' ')]);
  rows.push(['claim type', d.claimType]);
  if (d.readers.length > 0) rows.push(['readers', d.readers.join(' ')]);
  if (d.tags.length > 0) rows.push(['tags', d.tags.join(' ')]);
  if (d.encryptionCipher) rows.push(['encryption', d.encryptionCipher]);
  rows.push(['owner', d.user]);
  rows.push(['read', `${formatBytes(d.readBytes)} in ${d.readRequests} requests`]);
  rows.push(['written', `${formatBytes(d.writeBytes)} in ${d.writeRequests} requests`]);
  for (const [k, v] of Object.entries(d.userData)) rows.push([`user:${k}`, v]);
  const width = Math.max(...rows.map(([k]) => k.length));
  return rows.map(([k, v]) => `${k.padEnd(width)}  ${v}`).join('\n');
}

async function withClient<T>(account: string, fn: (client: ApiClient) => Promise<T>): Promise<T> {
  const client = openClient(await resolveAccount(account), { connections: 2 });
  try {
    return await fn(client);
  } finally {
    await client.close();
  }
}

export const command: CommandModule<object, DrivesArgs> = {
  command: 'drives <first> [second]',
  describe: 'List, show, create or destroy drives: drives ACCOUNT: [list] | info LOC | create ACCOUNT:NAME --size N | destroy LOC',
  builder: (y) =>
    y
      .positional('first', { type: 'string', demandOption: true, description: 'ACCOUNT: to list, or one of info, create, destroy, list' })
      .positional('second', { type: 'string', description: 'the drive (ACCOUNT:DRIVE, a name or UUID), or ACCOUNT:NAME for create' })
      .option('size', { type: 'string', description: 'Size of a new drive, bytes with optional k/M/G/T suffix (1024-based), e.g. 10G' })
      .example('$0 drives lon:', "list account lon's drives")
      .example('$0 drives info lon:web-root', 'show one drive')
      .example('$0 drives create lon:scratch --size 10G', 'create an empty 10 GiB drive')
      .example('$0 drives destroy lon:scratch', 'delete it') as never,
  handler: async (args) => {
    const out = new Output(args);
    const { action, target } = parseDrivesArgs(args.first, args.second);
    if (action !== 'create' && args.size !== undefined) throw new UsageError('--size only applies to drives create');
    switch (action) {
      case 'list': {
        const loc = expectLocation(target, ['account'], 'drives ACCOUNT:');
        const drives = await withClient(loc.account, (c) => c.listDriveInfo());
        drives.sort((a, b) => a.name.localeCompare(b.name) || a.uuid.localeCompare(b.uuid));
        out.result(
          { account: loc.account, drives: drives.map(driveJson) },
          drives.length === 0 ? `account ${loc.account} has no drives` : table(['UUID', 'SIZE', 'STATE', 'NAME'], drives.map(driveRow)),
        );
        return;
      }
      case 'info': {
        const loc = expectLocation(target, ['drive'], 'drives info LOC');
        const drive = await withClient(loc.account, (c) => resolveDrive(c, loc.drive));
        out.result({ account: loc.account, drive: driveJson(drive) }, driveText(drive));
        return;
      }
      case 'create': {
        const loc = expectLocation(target, ['drive'], 'drives create ACCOUNT:NAME');
        if (args.size === undefined) throw new UsageError('drives create needs --size, e.g. --size 10G');
        const size = parseSize(args.size);
        if (size === undefined || size === 0) throw new UsageError(`--size ${args.size} is not a size: use bytes or a k/M/G/T suffix, e.g. 10G`);
        const drive = await withClient(loc.account, (c) => c.createDrive({ name: loc.drive, size }));
        out.result({ account: loc.account, created: driveJson(drive) }, `created ${loc.account}:${drive.name} ${drive.uuid} (${formatBytes(drive.size)})`);
        return;
      }
      case 'destroy': {
        const loc = expectLocation(target, ['drive'], 'drives destroy LOC');
        const drive = await withClient(loc.account, async (c) => {
          const d = await resolveDrive(c, loc.drive);
          await c.destroyDrive(d.uuid);
          return d;
        });
        out.result({ account: loc.account, destroyed: drive.uuid, name: drive.name }, `destroyed ${loc.account}:${drive.name} ${drive.uuid}`);
        return;
      }
    }
  },
};
