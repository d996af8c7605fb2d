// Bundles the CLI from src/ with esbuild into dist/bundle, which bin/drivesnap runs: a few files per command
// instead of ~240 modules to resolve and load at every start. Run by `npm ci` (the prepare script) and
// `npm run build`, after tsc (whose dist/ output stays the library's entry point and the fallback of
// bin/drivesnap). `node scripts/bundle.mjs OUTDIR` bundles elsewhere (a private measurement, a test's copy).
//
// - Code splitting keeps each command lazily loaded (src/cli/commands/index.ts imports them on demand).
// - The output is flat: the hashing worker is `worker.js` beside every chunk, where src/hashing/worker-entry.ts
//   looks for it (`./worker.js` from the module that asks). Files shipped with the package (package.json, the
//   native addon) are found from src/util/package-root.ts, so the chunks' depth does not matter.
// - `early-unlock.js`, loaded first by bin/drivesnap, starts the repository's key derivation while the rest
//   loads (src/cli/early-unlock.ts).
// - External: native code (better-sqlite3), the S3 SDK (large; loaded only for s3: repositories), undici
//   (src/api/http.ts requires its pool from node_modules at run time: one copy for the whole process) and
//   pako (a benchmark-only devDependency).
import { rmSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const outdir = resolve(process.argv[2] ?? resolve(root, 'dist/bundle'));

rmSync(outdir, { recursive: true, force: true });
await build({
  absWorkingDir: root,
  entryPoints: { drivesnap: 'src/cli/main.ts', worker: 'src/hashing/worker.ts', 'early-unlock': 'src/cli/early-unlock.ts' },
  outdir,
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  chunkNames: 'chunk-[hash]',
  external: ['better-sqlite3', '@aws-sdk/*', 'undici', 'pako'],
  // CommonJS dependencies bundled into ES modules still call require() for Node's built-ins.
  banner: { js: "import { createRequire as __drivesnapCreateRequire } from 'node:module'; const require = __drivesnapCreateRequire(import.meta.url);" },
  sourcemap: 'linked',
  legalComments: 'none',
  logLevel: 'warning',
});
