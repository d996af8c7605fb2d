/**
 * The drive a location's DRIVE part names, asked of the API (src/config/locations.ts only parses). A UUID
 * is looked up directly (so drives other accounts share through `readers` work); a name must match exactly
 * one of the account's own drives.
 */
import type { ApiClient } from '../api/client.js';
import type { DriveInfo } from '../api/drive-info.js';
import { isUuid } from '../config/locations.js';
import { DrivesnapError } from '../errors.js';

/** The API clients of a command, one per account (src/cli/open-ends.ts `Clients` is one). */
export interface AccountClients {
  get(account: string): Promise<ApiClient>;
}

export async function resolveDrive(client: Pick<ApiClient, 'url' | 'driveInfo' | 'listDriveInfo'>, nameOrUuid: string): Promise<DriveInfo> {
  if (isUuid(nameOrUuid)) return client.driveInfo(nameOrUuid);
  const matches = (await client.listDriveInfo()).filter((d) => d.name === nameOrUuid);
  if (matches.length === 0) {
    throw new DrivesnapError('DRIVE_NOT_FOUND', `no drive named ${JSON.stringify(nameOrUuid)} at ${client.url}; \`drivesnap drives ACCOUNT:\` lists them`);
  }
  if (matches.length > 1) {
    throw new DrivesnapError(
      'DRIVE_AMBIGUOUS',
      `${matches.length} drives are named ${JSON.stringify(nameOrUuid)} (${matches.map((d) => d.uuid).join(', ')}); name one by its UUID`,
    );
  }
  return matches[0]!;
}
