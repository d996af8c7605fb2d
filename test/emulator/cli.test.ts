import { describe, expect, it } from 'vitest';
import { ACCOUNTS_ENV, emulatorOptions } from '../../src/cli/commands/emulator.js';
import { UsageError } from '../../src/errors.js';

const A = '11111111-1111-4111-8111-111111111111';
const B = '22222222-2222-4222-8222-222222222222';

describe('emulator command options', () => {
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

describe('emulator WAN options', () => {
  it('takes --latency in ms and --bandwidth in bytes or bits per second', () => {
    expect(emulatorOptions({ listen: ':0', latency: 30, bandwidth: '1Gbit' }, {}).wan).toEqual({ latencyMs: 30, bandwidthBytesPerSec: 125_000_000 });
    expect(emulatorOptions({ listen: ':0', bandwidth: '125M/s' }, {}).wan).toEqual({ bandwidthBytesPerSec: 125 * 1024 ** 2 });
    expect(emulatorOptions({ listen: ':0', bandwidth: '100Mbit/s' }, {}).wan).toEqual({ bandwidthBytesPerSec: 12_500_000 });
    expect(emulatorOptions({ listen: ':0' }, {}).wan).toBeUndefined();
  });

  it('refuses malformed numbers, naming the option', () => {
    for (const [args, name] of [
      [{ latency: Number.NaN }, '--latency'],
      [{ latency: -5 }, '--latency'],
      [{ bandwidth: 'fast' }, '--bandwidth'],
      [{ bandwidth: '0' }, '--bandwidth'],
      [{ 'shutdown-delay': Number.NaN }, '--shutdown-delay'],
    ] as const) {
      expect(() => emulatorOptions({ listen: ':0', ...args }, {}), name).toThrow(UsageError);
      expect(() => emulatorOptions({ listen: ':0', ...args }, {}), name).toThrow(name);
    }
  });
});
