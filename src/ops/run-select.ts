/**
 * Which drives a job file's `drives` entries name, resolved against the accounts' APIs. An entry that
 * cannot be resolved (unknown account, no such drive, API down) becomes a failed target rather than
 * stopping the run: the other drives are still backed up, and the run exits 3 (partly done).
 */
import type { DriveInfo } from '../api/drive-info.js';
import type { Clients } from '../cli/open-ends.js';
import { resolveDrive } from '../config/locations.js';
import { DrivesnapError, ExitCode } from '../errors.js';
import type { DriveSelector } from './jobfile.js';

export type RunTarget =
  | { label: string; account: string; drive: DriveInfo; url: string }
  | { label: string; account: string; error: unknown };

export async function selectDrives(selectors: DriveSelector[], clients: Clients): Promise<RunTarget[]> {
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
      const drives = (await client.listDriveInfo())
        .filter((d) => sel.kind === 'all' || d.tags.some((t) => sel.tags.includes(t)))
        .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
      if (drives.length === 0) {
        // A selector that used to match and now matches nothing is worth an alert, not silence.
        throw new DrivesnapError('NO_DRIVES', `account ${sel.account} has no drives${sel.kind === 'tagged' ? ` tagged ${sel.tags.join(' or ')}` : ''}`, ExitCode.failure);
      }
      for (const d of drives) add(sel.account, d, client.url);
    } catch (error) {
      targets.push({ label, account: sel.account, error });
    }
  }
  return targets;
}
