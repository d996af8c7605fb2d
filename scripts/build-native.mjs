#!/usr/bin/env node
// Builds the optional ISA-L gzip addon (native/isal) at `npm ci` / `npm install`. It never fails the
// install: without libisal-dev (or a compiler) it prints one line and drivesnap runs on node:zlib.
// The addon deflates (repository levels 3-9) and inflates through the libdeflate copied into native/libdeflate
// (smaller chunks, and faster than Debian's libdeflate 1.14 build: see native/libdeflate/README.md), and
// deflates levels 1-2 through ISA-L's igzip; DRIVESNAP_LIBDEFLATE=0 builds it without libdeflate (igzip only).
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const addonDir = resolve(dirname(fileURLToPath(import.meta.url)), '..', 'native', 'isal');

function nodeGyp() {
  if (process.env.npm_config_node_gyp) return process.env.npm_config_node_gyp;
  // Outside npm: the node-gyp that ships with npm, next to this node.
  const bundled = resolve(dirname(process.execPath), '..', 'lib', 'node_modules', 'npm', 'node_modules', 'node-gyp', 'bin', 'node-gyp.js');
  if (existsSync(bundled)) return bundled;
  try {
    return createRequire(import.meta.url).resolve('node-gyp/bin/node-gyp.js');
  } catch {
    return undefined;
  }
}

function skip(reason, log) {
  let where = '';
  if (log) {
    const file = join(mkdtempSync(join(tmpdir(), 'drivesnap-isal-')), 'build.log');
    writeFileSync(file, log);
    where = ` (build log: ${file})`;
  }
  console.log(`drivesnap: optional ISA-L gzip addon not built: ${reason}; using node:zlib${where}`);
  process.exit(0);
}

if (process.env.DRIVESNAP_CODEC === 'zlib') skip('DRIVESNAP_CODEC=zlib');
const gyp = nodeGyp();
if (!gyp) skip('node-gyp not found');
const libdeflate = process.env.DRIVESNAP_LIBDEFLATE !== '0';
const args = [gyp, 'rebuild'];
// Node's own headers when they are installed next to it (distribution packages), so no download is needed.
const localHeaders = resolve(dirname(process.execPath), '..', 'include', 'node', 'node_api.h');
if (!process.env.npm_config_nodedir && existsSync(localHeaders)) args.push(`--nodedir=${resolve(localHeaders, '..', '..', '..')}`);
// After `--`, arguments for gyp: the variable binding.gyp's condition reads.
args.push('--', `-Dlibdeflate=${libdeflate ? 1 : 0}`);
const run = spawnSync(process.execPath, args, { cwd: addonDir, encoding: 'utf8', timeout: 300_000 });
const log = `${run.stdout ?? ''}${run.stderr ?? ''}${run.error ? String(run.error) : ''}`;
if (run.status !== 0) {
  skip(/isa-l[^\n]*No such file/i.test(log) ? 'ISA-L headers missing (apt-get install libisal-dev)' : 'the build failed', log);
}
console.log(
  libdeflate
    ? 'drivesnap: built the gzip addon (native/isal): libdeflate, and ISA-L for the fast levels'
    : 'drivesnap: built the ISA-L gzip addon (native/isal) (DRIVESNAP_LIBDEFLATE=0: deflate through ISA-L)',
);
