/** `drivesnap drives` against the emulator, through yargs as main.ts runs it, reading what it prints. */
import { randomUUID } from 'node:crypto';
import yargs from 'yargs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { command, parseDrivesArgs } from '../../src/cli/commands/drives.js';
import { type Emulator, startEmulator } from '../../src/emulator/index.js';
import { UsageError } from '../../src/errors.js';

const SECRET = 'cli-secret-value';
let emu: Emulator;
const savedEnv = { ...process.env };

beforeAll(async () => {
  emu = await startEmulator({ accounts: [{ user: randomUUID(), secret: SECRET }] });
  process.env.EHURI = emu.url;
  process.env.EHAUTH = `${emu.accounts[0]!.user}:${SECRET}`;
  process.env.DRIVESNAP_CONFIG = '';
  process.env.XDG_CONFIG_HOME = '/nonexistent-drivesnap-test';
});
afterAll(async () => {
  process.env = savedEnv;
  await emu?.close();
});

/** Runs `drivesnap ARGS`; returns stdout, or throws what the command threw. */
async function run(...args: string[]): Promise<string> {
  let out = '';
  const write = process.stdout.write;
  process.stdout.write = ((chunk: string) => {
    out += chunk;
    return true;
  }) as typeof process.stdout.write;
  try {
    await yargs(args)
      .option('json', { type: 'boolean' })
      .option('quiet', { type: 'boolean' })
      .command(command)
      .strict()
      .fail((msg, err) => {
        throw err ?? new UsageError(msg);
      })
      .parseAsync();
  } finally {
    process.stdout.write = write;
  }
  expect(out).not.toContain(SECRET);
  return out;
}

describe('drives arguments', () => {
  it('reads ACCOUNT: [list] and ACTION LOC', () => {
    expect(parseDrivesArgs('lon:', undefined)).toEqual({ action: 'list', target: 'lon:' });
    expect(parseDrivesArgs('lon:', 'list')).toEqual({ action: 'list', target: 'lon:' });
    expect(parseDrivesArgs('info', 'lon:web')).toEqual({ action: 'info', target: 'lon:web' });
    expect(() => parseDrivesArgs('info', undefined)).toThrow(/drives info needs a location/);
    expect(() => parseDrivesArgs('lon:', 'show')).toThrow(UsageError);
  });
});

describe('drivesnap drives', () => {
  it('creates, lists, shows and destroys a drive, in text and JSON', async () => {
    expect(await run('drives', 'create', 'eh:web root', '--size', '10M')).toMatch(/^created eh:web root [0-9a-f-]{36} \(10\.0 MiB\)\n$/);
    const created = JSON.parse(await run('drives', 'create', 'eh:db', '--size', '1G', '--json'));
    expect(created.created).toMatchObject({ name: 'db', size: 1024 ** 3 });
    expect(created.created.keys.drive).toBe(created.created.uuid);

    const listing = await run('drives', 'eh:');
    expect(listing.split('\n')[0]).toMatch(/^UUID\s+SIZE\s+STATE\s+NAME$/);
    expect(listing).toMatch(/1\.00 GiB\s+active\s+db/);
    expect(listing).toMatch(/10\.0 MiB\s+active\s+web root/);
    const listed = JSON.parse(await run('drives', 'eh:', 'list', '--json'));
    expect(listed.drives.map((d: { name: string }) => d.name)).toEqual(['db', 'web root']);

    expect(await run('drives', 'info', 'eh:web root')).toMatch(/^uuid +[0-9a-f-]{36}\nname +web root\nsize +10\.0 MiB \(10485760 bytes\)/);
    const byUuid = JSON.parse(await run('drives', 'info', `eh:${created.created.uuid}`, '--json'));
    expect(byUuid.drive.name).toBe('db');

    expect(await run('drives', 'destroy', 'eh:db')).toBe(`destroyed eh:db ${created.created.uuid}\n`);
    await run('drives', 'destroy', 'eh:web root');
    expect(await run('drives', 'eh:')).toBe('account eh has no drives\n');
  });

  it('explains bad input with stable codes', async () => {
    await expect(run('drives', 'create', 'eh:x')).rejects.toThrow(/needs --size/);
    await expect(run('drives', 'create', 'eh:x', '--size', 'big')).rejects.toThrow(/--size big is not a size/);
    await expect(run('drives', 'info', 'eh:')).rejects.toThrow(/drives info LOC must be ACCOUNT:DRIVE/);
    await expect(run('drives', 'info', 'eh:nothing-here')).rejects.toMatchObject({ code: 'DRIVE_NOT_FOUND' });
    await expect(run('drives', 'lon:')).rejects.toMatchObject({ code: 'UNKNOWN_ACCOUNT', message: expect.stringContaining('known accounts: eh') });
    await run('drives', 'create', 'eh:twin', '--size', '1M');
    await run('drives', 'create', 'eh:twin', '--size', '1M');
    await expect(run('drives', 'destroy', 'eh:twin')).rejects.toMatchObject({ code: 'DRIVE_AMBIGUOUS' });
  });
});
