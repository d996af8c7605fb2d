import { describe, expect, it } from 'vitest';
import { parseListen } from '../../src/cli/listen.js';
import { UsageError } from '../../src/errors.js';

describe('--listen HOST:PORT', () => {
  it('parses HOST:PORT, bracketed IPv6 and a bare :PORT', () => {
    expect(parseListen('0.0.0.0:8020')).toEqual({ host: '0.0.0.0', port: 8020 });
    expect(parseListen('[::1]:0')).toEqual({ host: '::1', port: 0 });
    expect(parseListen(':9000')).toEqual({ host: '127.0.0.1', port: 9000 });
  });

  it('refuses a missing port or one out of range, naming the option', () => {
    expect(() => parseListen('localhost')).toThrow(UsageError);
    expect(() => parseListen('h:70000')).toThrow(UsageError);
    expect(() => parseListen('h:')).toThrow('--listen h:');
  });
});
