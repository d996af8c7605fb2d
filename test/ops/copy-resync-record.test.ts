/**
 * The copy record in a real jobs database (SQLite): kept and read back whole, per drive pair and table
 * form, and a record cut short (a crash between its table and its info) or in another form reads as none.
 */
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CopyRecord } from '../../src/ops/change-detection.js';
import { COPY_TABLE_FORM, copyRecordKey, forgetCopyRecord, loadCopyRecord, repositoryIdForm, saveCopyRecord } from '../../src/ops/copy-record-store.js';
import { RepoIndex } from '../../src/repo/index-db.js';
import { Cleanup } from '../helpers/engine-fixtures.js';

const cleanup = new Cleanup();
let jobs: RepoIndex;
beforeAll(async () => {
  jobs = RepoIndex.open(join(await cleanup.tempDir(), 'jobs.sqlite'));
  cleanup.add(() => jobs.close());
});
afterAll(() => cleanup.run());

const src = { endpoint: 'https://api.one.example', uuid: 'aaaaaaaa-0000-4000-8000-000000000001' };
const dst = { endpoint: 'https://api.two.example', uuid: 'bbbbbbbb-0000-4000-8000-000000000002' };
const form = { chunkSize: 4 * 1024 * 1024, form: COPY_TABLE_FORM };
const counters = { readBytes: 10, readRequests: 1, writeBytes: 4096, writeRequests: 1 };

function record(): CopyRecord {
  return {
    sourceUuid: src.uuid,
    targetUuid: dst.uuid,
    source: { size: 3 * form.chunkSize, counters, readAt: '2026-12-01T10:00:00.000Z' },
    target: { size: 3 * form.chunkSize, readAt: '2026-12-01T10:01:00.000Z' },
    table: randomBytes(3 * 32),
  };
}

describe('the copy record store', () => {
  it('keeps a record per drive pair and reads it back whole (a target without counters stays without)', () => {
    const r = record();
    saveCopyRecord(jobs, src, dst, form, r);
    expect(loadCopyRecord(jobs, src, dst, form)).toEqual(r);
    expect(loadCopyRecord(jobs, dst, src, form)).toBeUndefined();
    const next = { ...record(), target: { ...r.target, counters } };
    saveCopyRecord(jobs, src, dst, form, next);
    expect(loadCopyRecord(jobs, src, dst, form)).toEqual(next);
    forgetCopyRecord(jobs, src, dst);
    expect(loadCopyRecord(jobs, src, dst, form)).toBeUndefined();
  });

  it('a record in another table form or chunk size is no record', () => {
    saveCopyRecord(jobs, src, dst, form, record());
    const keyed = repositoryIdForm({ idHash: 'hmac-sha256', id: 'c'.repeat(64) });
    expect(keyed).not.toBe(COPY_TABLE_FORM);
    expect(repositoryIdForm({ idHash: 'sha256', id: 'c'.repeat(64) })).toBe(COPY_TABLE_FORM);
    expect(loadCopyRecord(jobs, src, dst, { ...form, form: keyed })).toBeUndefined();
    expect(loadCopyRecord(jobs, src, dst, { ...form, chunkSize: 1024 * 1024 })).toBeUndefined();
  });

  it('a record cut short after its table, before its info, reads as none', () => {
    forgetCopyRecord(jobs, src, dst);
    jobs.checkpoint(copyRecordKey(src, dst), [{ range: 0, id: randomBytes(32) }]);
    expect(loadCopyRecord(jobs, src, dst, form)).toBeUndefined();
    // And one whose table lost a range.
    saveCopyRecord(jobs, src, dst, form, record());
    jobs.checkpoint(copyRecordKey(src, dst), [{ range: 1, id: null }]);
    expect(loadCopyRecord(jobs, src, dst, form)).toBeUndefined();
  });
});
