import { describe, expect, it } from 'vitest';
import { type TargetInputs, targetLines, verdict } from '../../src/bench/targets.js';

describe('benchmark target verdicts', () => {
  it('says met at or under the limit, missed by how much over it, and not measured without a figure', () => {
    expect(verdict({ issue: 10, line: 'x', figure: '', target: '', value: 0.8, limit: 0.8 })).toBe('met');
    expect(verdict({ issue: 10, line: 'x', figure: '', target: '', value: 1.24, limit: 1 })).toBe('missed by 24%');
    expect(verdict({ issue: 10, line: 'x', figure: '', target: '', limit: 1 })).toBe('not measured');
    expect(verdict({ issue: 10, line: 'x', figure: '', target: '', value: Number.NaN, limit: 1 })).toBe('not measured');
  });

  it('judges nothing shown for reference, whatever its figure', () => {
    expect(verdict({ issue: 10, line: 'x', figure: '', target: '', value: 2, limit: 1, reference: true })).toBe('for reference');
  });

  it('computes the full-backup line as drivesnap time over borg zstd,3 time', () => {
    const times: Record<string, number> = { 'file/full': 6, 'borg zstd,3/full': 4 };
    const inputs: TargetInputs = {
      ds: (k) => times[k],
      peer: (k) => times[k],
      dsRepo: () => undefined,
      peerRepo: () => undefined,
      cpuPerGiB: () => undefined,
      apiShare: () => undefined,
      changedShare: 0.05,
      driveLabel: '2 GiB',
      sparseLabel: '64 GiB',
      randomLabel: '1 GiB',
    };
    const full = targetLines(inputs).find((l) => l.issue === 10 && l.line === 'full backup');
    expect(full?.value).toBe(1.5);
    expect(full && verdict(full)).toBe('missed by 50%');
    const unmeasured = targetLines(inputs).find((l) => l.line === 'incremental (5%)');
    expect(unmeasured && verdict(unmeasured)).toBe('not measured');
  });
});
