import { describe, expect, it } from 'vitest';
import yargs from 'yargs';
import { DASH_ARG, expectLocation, formatLocation, parseLocation, protectDashArgs, restoreDashArgs } from '../../src/config/locations.js';
import { UsageError } from '../../src/errors.js';

describe('parseLocation', () => {
  it('reads ACCOUNT:DRIVE with a UUID or a name (names may have spaces, colons and slashes)', () => {
    expect(parseLocation('lon:3b5e3f4c-8a9d-4c1e-b2f3-0a1b2c3d4e5f')).toEqual({
      kind: 'drive',
      account: 'lon',
      drive: '3b5e3f4c-8a9d-4c1e-b2f3-0a1b2c3d4e5f',
    });
    expect(parseLocation('sat:web root')).toEqual({ kind: 'drive', account: 'sat', drive: 'web root' });
    expect(parseLocation('eh:a:b/c')).toEqual({ kind: 'drive', account: 'eh', drive: 'a:b/c' });
  });
  it('reads ACCOUNT: as an account', () => {
    expect(parseLocation('lon:')).toEqual({ kind: 'account', account: 'lon' });
  });
  it('reads paths with a slash, or a file: prefix, as files', () => {
    expect(parseLocation('/dev/sdb')).toEqual({ kind: 'file', path: '/dev/sdb' });
    expect(parseLocation('./disk.img')).toEqual({ kind: 'file', path: './disk.img' });
    expect(parseLocation('images/x:y.img')).toEqual({ kind: 'file', path: 'images/x:y.img' });
    expect(parseLocation('file:disk.img')).toEqual({ kind: 'file', path: 'disk.img' });
    expect(parseLocation('file:lon:x')).toEqual({ kind: 'file', path: 'lon:x' });
  });
  it('reads - as stdio', () => {
    expect(parseLocation('-')).toEqual({ kind: 'stdio' });
    expect(parseLocation(DASH_ARG)).toEqual({ kind: 'stdio' });
  });
  it('refuses a bare word, saying how to write each kind', () => {
    expect(() => parseLocation('disk.img')).toThrow(UsageError);
    expect(() => parseLocation('disk.img')).toThrow(/\.\/disk\.img or file:disk\.img/);
    expect(() => parseLocation('file:')).toThrow(UsageError);
  });
  it('formats back to text that parses to the same location', () => {
    for (const text of ['lon:web', 'lon:', '/tmp/a', '-', 'file:lon:x', 'file:disk.img']) {
      expect(parseLocation(formatLocation(parseLocation(text)))).toEqual(parseLocation(text));
    }
  });
  it('insists on the kinds a command accepts', () => {
    expect(expectLocation('lon:web', ['drive'], 'LOC')).toEqual({ kind: 'drive', account: 'lon', drive: 'web' });
    expect(() => expectLocation('/tmp/x', ['drive'], 'drives info LOC')).toThrow(/drives info LOC must be ACCOUNT:DRIVE/);
  });
});

describe('a lone - through yargs', () => {
  /** Parses as main() does: the dashes protected before yargs, restored by a middleware before any check. */
  async function parse(argv: string[]): Promise<Record<string, unknown>> {
    let seen: Record<string, unknown> = {};
    let checked: unknown;
    await yargs(protectDashArgs(argv))
      .middleware(restoreDashArgs, true)
      .command(
        'copy <src> <dst>',
        'c',
        (y) => y.positional('src', { type: 'string' }).positional('dst', { type: 'string' }),
        (a) => {
          seen = a;
        },
      )
      .command(
        'restore <snapshot>',
        'r',
        (y) =>
          y.option('to', { type: 'string' }).check((a) => {
            checked = a.to;
            return true;
          }),
        (a) => {
          seen = a;
        },
      )
      .command(
        'backup [locations..]',
        'b',
        (y) => y.positional('locations', { type: 'string', array: true }),
        (a) => {
          seen = a;
        },
      )
      .strict()
      .parseAsync();
    return { ...seen, checked };
  }

  it('reaches the command as - (yargs alone gives an empty string), as a positional, an option value or in an array', async () => {
    const plain = await yargs(['copy', 'eh:vol', '-']).command('copy <src> <dst>', 'c', (y) => y.positional('dst', { type: 'string' })).parseAsync();
    expect(plain.dst).toBe('');
    expect(await parse(['copy', 'eh:vol', '-'])).toMatchObject({ src: 'eh:vol', dst: '-' });
    expect(await parse(['copy', '-', 'eh:vol'])).toMatchObject({ src: '-', dst: 'eh:vol' });
    expect(await parse(['restore', 'latest', '--to', '-'])).toMatchObject({ to: '-', checked: '-' });
    expect(await parse(['backup', 'eh:a', '-'])).toMatchObject({ locations: ['eh:a', '-'] });
  });

  it('leaves a - after -- alone, and every other argument as it is', () => {
    expect(protectDashArgs(['copy', '-', 'x', '--', '-'])).toEqual(['copy', DASH_ARG, 'x', '--', '-']);
    expect(protectDashArgs(['copy', '--to', './-', '-q'])).toEqual(['copy', '--to', './-', '-q']);
  });
});
