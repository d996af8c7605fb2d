/**
 * Which drives a selection names (a job file's `drives` entries, `backup --all ACCOUNT: --tag-filter T`),
 * resolved against the accounts' APIs, and the backup items they become. An entry that cannot be resolved
 * (unknown account, no such drive, API down) becomes a failed target rather than stopping the run: the
 * other drives are still backed up, and the run exits 3 (partly done).
 */
import type { DriveInfo } from '../api/drive-info.js';
import { driveSource } from '../engine/ends/drive.js';
import { DrivesnapError } from '../errors.js';
import type { BackupItem } from './backup-orchestrator.js';
import { driveTarget, selectByTags } from './backup-plan.js';
import type { DriveSelector } from './jobfile.js';
import { type AccountClients, resolveDrive } from './resolve-drive.js';

export type RunTarget =
  | { label: string; account: string; drive: DriveInfo; url: string }
  | { label: string; account: string; error: unknown };

export async function selectDrives(selectors: readonly DriveSelector[], clients: AccountClients): Promise<RunTarget[]> {
  const targets: RunTarget[] = [];
  // One drive named by two entries (by name and by tag) is backed up once.
  const seen = new Set<string>();
  const add = (account: string, drive: DriveInfo, url: string) => {
    const key = `${account}:${drive.uuid}`;
    if (seen.has(key)) return;
    seen.add(key);
    targets.push({ label: `${account}:${drive.name}`, account, drive, url });
  };
  for (const sel of selectors) {
    const label = sel.kind === 'drive' ? `${sel.account}:${sel.drive}` : sel.kind === 'tagged' ? `${sel.account}: tags ${sel.tags.join(',')}` : `${sel.account}: all`;
    try {
      const client = await clients.get(sel.account);
      if (sel.kind === 'drive') {
        add(sel.account, await resolveDrive(client, sel.drive), client.url);
        continue;
      }
      const drives = selectByTags(await client.listDriveInfo(), sel.kind === 'tagged' ? sel.tags : []);
      if (drives.length === 0) {
        // A selector that used to match and now matches nothing is worth an alert, not silence.
        throw new DrivesnapError('NO_DRIVES', `account ${sel.account} has no drives${sel.kind === 'tagged' ? ` tagged ${sel.tags.join(' or ')}` : ''}`);
      }
      for (const d of drives) add(sel.account, d, client.url);
    } catch (error) {
      targets.push({ label, account: sel.account, error });
    }
  }
  return targets;
}

/** The orchestrator's items for selected targets: a failed target fails as its item's work. */
export function targetItems(targets: readonly RunTarget[], clients: AccountClients): BackupItem[] {
  return targets.map((t) => ({
    label: t.label,
    open: async () => {
      if ('error' in t) throw t.error;
      const client = await clients.get(t.account);
      const { drive } = t;
      return {
        source: driveSource({ api: client, uuid: drive.uuid, size: drive.size, description: t.label }),
        target: driveTarget(t.account, drive, t.url),
        drive,
        client,
      };
    },
  }));
}
