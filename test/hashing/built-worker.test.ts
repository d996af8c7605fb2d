/**
 * The pool as it runs from dist/: plain JavaScript, worker.js beside pool.js, no tsx. The hashing modules are
 * transpiled (as `npm run build` does, one file at a time) into a temporary folder and driven by a child node.
 */
import { execFileSync } from 'node:child_process';
import { createHash, createHmac, randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import ts from 'typescript';
import { afterAll, beforeAll, expect, it } from 'vitest';

const SRC = join(import.meta.dirname, '../../src/hashing');
let dir: string;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'hash-pool-built-'));
  writeFileSync(join(dir, 'package.json'), '{"type":"module"}');
  for (const name of readdirSync(SRC).filter((n) => n.endsWith('.ts'))) {
    const out = ts.transpileModule(readFileSync(join(SRC, name), 'utf8'), {
      compilerOptions: { module: ts.ModuleKind.ES2022, target: ts.ScriptTarget.ES2022 },
    });
    writeFileSync(join(dir, name.replace(/\.ts$/, '.js')), out.outputText);
  }
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Runs an ES module script beside the built files in a child node; a child that does not exit fails the test. */
function runBuilt(script: string, ...args: string[]): string {
  return execFileSync(process.execPath, ['--input-type=module', '-e', script, ...args], { cwd: dir, encoding: 'utf8', timeout: 30_000 });
}

it.each([['plain'], ['keyed']])('hashes shared memory on worker.js threads from the built JavaScript (%s)', (mode) => {
  const key = mode === 'keyed' ? randomBytes(32) : undefined;
  const data = randomBytes(4 * 1024 * 1024 - 7);
  const input = join(dir, `${mode}.bin`);
  writeFileSync(input, data);
  const script = `
    import { createSecretKey } from 'node:crypto';
    import { readFileSync } from 'node:fs';
    import { HashPool } from './pool.js';
    import { hashWorkerEntry } from './worker-entry.js';
    const entry = hashWorkerEntry();
    if (entry.eval || !String(entry.script).endsWith('/worker.js')) throw new Error('not the built worker: ' + entry.script);
    const keyHex = process.argv[2];
    const pool = new HashPool({ workers: 2, key: keyHex ? createSecretKey(Buffer.from(keyHex, 'hex')) : undefined });
    const bytes = readFileSync(process.argv[1]);
    const range = Buffer.from(new SharedArrayBuffer(bytes.length));
    bytes.copy(range);
    const ids = await Promise.all([pool.hash(range), pool.hash(range)]);
    process.stdout.write(ids.map((id) => id.toString('hex')).join(' '));
    await pool.close();
  `;
  const out = runBuilt(script, input, ...(key ? [key.toString('hex')] : []));
  const want = key ? createHmac('sha256', key).update(data).digest('hex') : createHash('sha256').update(data).digest('hex');
  expect(out).toBe(`${want} ${want}`);
});

it('keeps the process alive while a hash is pending, and lets it exit when idle without close()', () => {
  // Nothing else holds the event loop: the await must still get its answer, then the process must end.
  const script = `
    import { HashPool } from './pool.js';
    const range = Buffer.from(new SharedArrayBuffer(1 << 20));
    const id = await new HashPool({ workers: 2 }).hash(range);
    process.stdout.write(id.toString('hex'));
  `;
  expect(runBuilt(script)).toBe(createHash('sha256').update(Buffer.alloc(1 << 20)).digest('hex'));
});
