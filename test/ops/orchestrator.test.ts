/**
 * The one backup orchestrator (src/ops/backup-orchestrator.ts) and its decisions (backup-plan.ts): tag
 * selections take drives carrying any of the tags; the exit code is decided once for `backup` and `run`;
 * a failing item does not stop the others and every item reports in one event shape; a stop signal ends
 * the run before the next drive with INTERRUPTED; a job file's bandwidthLimit paces drive reads.
 * `backup ./missing.img` prints its error once.
 */
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ApiClient } from '../../src/api/client.js';
import { openFileSource } from '../../src/engine/ends/file.js';
import type { BlockSource } from '../../src/engine/ends/types.js';
import { type BackupEvent, type BackupItem, backupAll } from '../../src/ops/backup-orchestrator.js';
import { carriesAnyTag, fileTarget, runExitCode, selectByTags, shutdownExtra } from '../../src/ops/backup-plan.js';
import { pacedSource } from '../../src/ops/paced-source.js';
import { selectDrives, targetItems } from '../../src/ops/run-select.js';
import { cliEnv, runCli } from '../helpers/engine-cli.js';
import { apiWorld, Cleanup, createDriveWith, makeImage, MiB, type TestRepo, writeImageFile } from '../helpers/engine-fixtures.js';

describe('backup-plan', () => {
  it('a tag selection takes drives carrying any of the tags; no tags takes every drive', () => {
    expect(carriesAnyTag(['web', 'prod'], ['db', 'prod'])).toBe(true);
    expect(carriesAnyTag(['web'], ['db', 'prod'])).toBe(false);
    expect(carriesAnyTag([], [])).toBe(true);
    const drives = [
      { name: 'b', uuid: '2', tags: ['nightly'] },
      { name: 'a', uuid: '1', tags: ['weekly'] },
      { name: 'c', uuid: '3', tags: [] },
    ];
    expect(selectByTags(drives, ['nightly', 'weekly']).map((d) => d.name)).toEqual(['a', 'b']);
    expect(selectByTags(drives, []).map((d) => d.name)).toEqual(['a', 'b', 'c']);
  });

  it('the exit code: 0 all backed up, 3 some failed or upkeep failed, 1 all failed or check found problems', () => {
    expect(runExitCode({ drives: 2, failed: 0 })).toBe(0);
    expect(runExitCode({ drives: 2, failed: 1 })).toBe(3);
    expect(runExitCode({ drives: 2, failed: 0, upkeepFailed: true })).toBe(3);
    expect(runExitCode({ drives: 2, failed: 2 })).toBe(1);
    expect(runExitCode({ drives: 2, failed: 0, checkProblems: 1 })).toBe(1);
  });

  it('records power-off when any server had to be powered off, and image files by absolute path', () => {
    const extra = shutdownExtra([
      { uuid: 's1', name: 'web', method: 'acpi' },
      { uuid: 's2', name: 'db', method: 'power-off' },
    ]);
    expect(extra).toMatchObject({ serverShutdown: { consistency: 'power-off', servers: [{ server: 's1', method: 'acpi' }, { server: 's2' }] } });
    expect(shutdownExtra([{ uuid: 's1', name: 'web', method: 'acpi' }])).toMatchObject({ serverShutdown: { consistency: 'shutdown' } });
    expect(fileTarget('x.img')).toMatchObject({ driveUuid: `file:${join(process.cwd(), 'x.img')}`, account: 'file' });
  });
});

describe('pacedSource (a job file bandwidthLimit on drive reads)', () => {
  const KiB = 1024;
  const memory = (size: number): BlockSource => ({
    size,
    description: 'memory',
    read: async (_offset, length) => Buffer.alloc(length),
    close: async () => {},
  });

  it('holds reads to the rate once the first second of burst is spent', async () => {
    const paced = pacedSource(memory(MiB), 512 * KiB);
    const started = performance.now();
    for (let i = 0; i < 4; i++) await paced.read(i * 256 * KiB, 256 * KiB);
    // 1 MiB at 512 KiB/s with a 512 KiB burst: the last 512 KiB wait about a second.
    expect(performance.now() - started).toBeGreaterThanOrEqual(900);
  });

  it('a stop ends the wait with the signal reason', async () => {
    const controller = new AbortController();
    const paced = pacedSource(memory(MiB), 64 * KiB, controller.signal);
    await paced.read(0, 64 * KiB);
    const waiting = paced.read(64 * KiB, 512 * KiB);
    controller.abort(new Error('stopped'));
    await expect(waiting).rejects.toThrow('stopped');
  });
});

describe('backupAll against the emulator and a local repository', () => {
  const cleanup = new Cleanup();
  let c: ApiClient;
  let t: TestRepo;
  let work: string;
  const clients = { get: async () => c };

  beforeAll(async () => {
    ({ c, t, work } = await apiWorld(cleanup));
  });
  afterAll(() => cleanup.run());

  function fileItem(path: string): BackupItem {
    return { label: path, open: async () => ({ source: await openFileSource(path), target: fileTarget(path) }) };
  }

  it('backs up every item it can, in order, reporting each in one event shape', async () => {
    await createDriveWith(c, 'web', makeImage([{ random: 1 }]));
    const tagged = await createDriveWith(c, 'db', makeImage([{ random: 2 }]));
    await c.setDrive(tagged, { tags: 'prod' });
    const image = join(work, 'one.img');
    await writeImageFile(image, makeImage([{ text: 3 }]));
    const targets = await selectDrives([{ kind: 'tagged', account: 'eh', tags: ['prod', 'none'] }, { kind: 'drive', account: 'eh', drive: 'nope' }], clients);
    const items = [fileItem(image), ...targetItems(targets, clients), fileItem(join(work, 'missing.img'))];
    const events: BackupEvent[] = [];
    const outcomes = await backupAll({ repo: t.repo, items, tags: ['t1'], concurrency: 2, onEvent: (e) => events.push(e) });

    expect(outcomes.map((o) => [o.location, o.ok])).toEqual([
      [image, true],
      ['eh:db', true],
      ['eh:nope', false],
      [join(work, 'missing.img'), false],
    ]);
    expect(outcomes[2]!.error?.code).toBe('DRIVE_NOT_FOUND');
    expect(events.filter((e) => e.event === 'snapshot').map((e) => (e as { location: string }).location)).toEqual([image, 'eh:db']);
    expect(events.filter((e) => e.event === 'error').map((e) => (e as { location: string }).location)).toEqual(['eh:nope', join(work, 'missing.img')]);
    expect(outcomes[1]!.driveUuid).toBe(tagged);
    expect(runExitCode({ drives: outcomes.length, failed: outcomes.filter((o) => !o.ok).length })).toBe(3);
  });

  it('backs up an item named twice once', async () => {
    const image = join(work, 'twice.img');
    await writeImageFile(image, makeImage([{ text: 4 }]));
    const outcomes = await backupAll({ repo: t.repo, items: [fileItem(image), fileItem(image)] });
    expect(outcomes.map((o) => [o.location, o.ok])).toEqual([[image, true]]);
  });

  it('a stop signal ends the run before the next item, with INTERRUPTED', async () => {
    const controller = new AbortController();
    const opened: string[] = [];
    const item = (label: string): BackupItem => ({
      label,
      open: async () => {
        opened.push(label);
        controller.abort();
        throw new Error('stopped while opening');
      },
    });
    await expect(backupAll({ repo: t.repo, items: [item('a'), item('b')], signal: controller.signal })).rejects.toMatchObject({ code: 'INTERRUPTED' });
    expect(opened).toEqual(['a']);
  });
});

describe('backup of a missing image file', () => {
  const cleanup = new Cleanup();
  afterAll(() => cleanup.run());

  it('prints its error once, from the CLI', async () => {
    const work = await cleanup.tempDir();
    const env = cliEnv({ HOME: work, DRIVESNAP_REPO: join(work, 'repo') });
    expect((await runCli(['init', '--no-encryption'], env)).code).toBe(0);
    const r = await runCli(['backup', './missing.img'], env);
    expect(r.code).toBe(1);
    expect(r.stderr.split('\n').filter((l) => l.startsWith('drivesnap:'))).toEqual([expect.stringMatching(/missing\.img/)]);
  });
});
