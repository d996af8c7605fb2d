/**
 * `benchmark` (issue 5, part 3): every measurement yields a positive, finite figure, against a real
 * emulator and a real repository; the scratch drive and scratch objects are gone afterwards. No timing
 * thresholds: machines differ.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ApiClient } from '../../src/api/client.js';
import type { Emulator } from '../../src/emulator/index.js';
import { isalCodec } from '../../src/codec/isal.js';
import { defaultLevelCodec } from '../helpers/codec-labels.js';
import { type Measurement, STORE_PREFIX } from '../../src/ops/machine-benchmark.js';
import { cliEnv, runCli } from '../helpers/engine-cli.js';
import { ACCOUNT_A, apiClient, Cleanup, emulator, localRepo, type TestRepo } from '../helpers/engine-fixtures.js';


const CPU = [
  'sha256',
  'gzip level 1 (node:zlib)',
  'gzip level 6 (node:zlib)',
  'gunzip (node:zlib)',
  // The addon's lines when it is built (CI installs libisal-dev), else they are listed as skipped. It
  // inflates through the libdeflate built into it (native/libdeflate), or igzip when built without.
  ...(isalCodec ? [`gzip (${defaultLevelCodec()})`, `gunzip (${isalCodec.deflater === 'libdeflate' ? 'libdeflate' : 'isal-igzip'})`] : []),
  'gzip level 6 (pako)',
  'gunzip (pako)',
  'aes-256-gcm encrypt',
  'aes-256-gcm decrypt',
  'chunk id',
  'chunk encode',
  'chunk decode + verify',
];

const cleanup = new Cleanup();
let emu: Emulator;
let a: ApiClient;
let r: TestRepo;

beforeAll(async () => {
  emu = await emulator(cleanup);
  a = apiClient(cleanup, emu);
  r = await localRepo(cleanup, false);
});
afterAll(() => cleanup.run());

function sane(results: Measurement[]): void {
  for (const m of results) {
    expect(Number.isFinite(m.throughput) && m.throughput > 0, m.name).toBe(true);
    expect(m.ops, m.name).toBeGreaterThanOrEqual(1);
    expect(m.bytes, m.name).toBeGreaterThan(0);
    if (m.ratio !== undefined) expect(m.ratio > 0 && m.ratio < 1, `${m.name} ratio`).toBe(true);
  }
}

async function storeObjects(prefix: string): Promise<string[]> {
  const names: string[] = [];
  for await (const o of r.repo.store.list(prefix)) names.push(o.name);
  return names;
}

describe('benchmark', () => {
  it('runs from the CLI with --json: a positive, finite figure for every CPU, API and store measurement; no scratch left', async () => {
    const before = await a.listDrives();
    const home = await cleanup.tempDir('drivesnap-bench-home-');
    const env = cliEnv({ EHURI: emu.url, EHAUTH: `${ACCOUNT_A.user}:${ACCOUNT_A.secret}`, HOME: home });
    const res = await runCli(['benchmark', '--json', '--seconds', '0.5', '--account', 'eh', '--repo', r.dir!, '--connections', '2'], env);
    expect(res.code, res.stderr).toBe(0);
    const out = res.json.find((j) => j.event === 'benchmark') as { codec: string; results: Measurement[]; skipped: { name: string }[] };
    expect(out.results.map((m) => m.name)).toEqual([...CPU, 'api write (raw)', 'api read', 'store put', 'store get']);
    expect(out.skipped.map((s) => s.name)).toEqual(isalCodec ? [] : ['gzip (native addon)', 'gunzip (native addon)']);
    // The repository's default gzip level 3.
    expect(out.codec).toBe(defaultLevelCodec());
    sane(out.results);
    // The scratch drive was destroyed and the scratch objects deleted.
    expect(await a.listDrives()).toEqual(before);
    expect(await storeObjects(STORE_PREFIX)).toEqual([]);
  });

  it('names node:zlib as the chunk codec when DRIVESNAP_CODEC=zlib forces the fallback, in --json and in the table', async () => {
    const env = cliEnv({ HOME: await cleanup.tempDir('drivesnap-bench-home-'), DRIVESNAP_CODEC: 'zlib' });
    const json = await runCli(['benchmark', '--json', '--seconds', '0.2'], env);
    expect(json.code, json.stderr).toBe(0);
    const out = json.json.find((j) => j.event === 'benchmark') as { codec: string; results: Measurement[] };
    expect(out.codec).toBe('node:zlib L3');
    expect(out.results.find((m) => m.name === 'chunk encode')?.note).toContain('node:zlib L3');
    const text = await runCli(['benchmark', '--seconds', '0.2'], env);
    expect(text.code, text.stderr).toBe(0);
    expect(text.stdout).toContain('chunks compress with node:zlib L3');
  });
});
