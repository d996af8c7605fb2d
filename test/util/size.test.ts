import { describe, expect, it } from 'vitest';
import { formatBytes, formatRate, parseSize } from '../../src/util/size.js';

describe('parseSize', () => {
  it('reads plain bytes and 1024-based suffixes in either case', () => {
    expect(parseSize('4194304')).toBe(4194304);
    expect(parseSize('4M')).toBe(4 * 1024 * 1024);
    expect(parseSize('2g')).toBe(2 * 1024 ** 3);
    expect(parseSize('1T')).toBe(1024 ** 4);
    expect(parseSize('3k')).toBe(3072);
  });
  it('rejects anything that is not digits with an optional suffix', () => {
    for (const bad of ['', '-1', '1.5G', '4MB', 'G', '0x10', '1 M']) expect(parseSize(bad)).toBeUndefined();
  });
});

describe('formatBytes', () => {
  it('prints 1024-based units', () => {
    expect(formatBytes(512)).toBe('512 B');
    expect(formatBytes(4 * 1024 * 1024)).toBe('4.00 MiB');
    expect(formatBytes(1536 * 1024 ** 3)).toBe('1.50 TiB');
  });
});

describe('formatRate', () => {
  it('rounds a fractional rate instead of printing every digit', () => {
    expect(formatRate(200 / 3)).toBe('66.7 B/s');
    expect(formatRate(5 / 3)).toBe('1.67 B/s');
    expect(formatRate(100)).toBe('100 B/s');
    expect(formatRate(1.5 * 1024 * 1024)).toBe('1.50 MiB/s');
  });
});
