import { describe, expect, it } from 'vitest';
import { ACCOUNTS_ENV, emulatorOptions, parseListen } from '../../src/cli/commands/emulator.js';
import { UsageError } from '../../src/errors.js';

const A = '11111111-1111-4111-8111-111111111111';
const B = '22222222-2222-4222-8222-222222222222';

describe('emulator command options', () => {
  it('parses HOST:PORT, bracketed IPv6 and a bare :PORT', () => {
    expect(parseListen('0.0.0.0:8020')).toEqual({ host: '0.0.0.0', port: 8020 });
    expect(parseListen('[::1]:0')).toEqual({ host: '::1', port: 0 });
    expect(parseListen(':9000')).toEqual({ host: '127.0.0.1', port: 9000 });
    expect(() => parseListen('localhost')).toThrow(UsageError);
    expect(() => parseListen('h:70000')).toThrow(UsageError);
  });

  it('takes accounts from --account and from the environment, and sizes with suffixes', () => {
    const opts = emulatorOptions(
      { listen: '127.0.0.1:0', account: [`${A}:s1`], faults: 'busy=0.5,seed=1', 'storage-limit': '10G', 'max-write': '8M' },
      { [ACCOUNTS_ENV]: `${B}:s2, ${B.replace(/2/g, '3')}:s3` },
    );
    expect(opts.accounts?.map((a) => a.user)).toEqual([A, B, B.replace(/2/g, '3')]);
    expect(opts).toMatchObject({ host: '127.0.0.1', port: 0, storageLimitBytes: 10 * 1024 ** 3, maxWriteBytes: 8 * 1024 ** 2 });
    expect(opts.faults).toEqual({ busyRate: 0.5, seed: 1 });
  });

  it('refuses a malformed account without echoing its secret', () => {
    try {
      emulatorOptions({ listen: ':0', account: ['not-a-uuid:hunter2'] }, {});
      expect.unreachable();
    } catch (err) {
      expect(err).toBeInstanceOf(UsageError);
      expect((err as Error).message).not.toContain('hunter2');
    }
  });
});
