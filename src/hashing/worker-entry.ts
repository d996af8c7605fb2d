/**
 * Where the worker's code is and how to start it: the built worker.js beside this file under dist/ (in the
 * esbuild bundle, dist/bundle, the worker's own entry point is worker.js beside every chunk: scripts/bundle.mjs); or,
 * when this module itself runs as TypeScript (tests, `tsx` scripts), a small bootstrap that imports worker.ts
 * through tsx's API (`--import tsx` in a worker's execArgv does not reach its entry point on Node 20).
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';

export interface WorkerEntry {
  /** A file URL, or the bootstrap's source when `eval` is true. */
  script: URL | string;
  eval: boolean;
  execArgv: string[];
}

export function hashWorkerEntry(moduleUrl: string = import.meta.url): WorkerEntry {
  // The parent's flags are kept (so `node --cpu-prof` profiles the workers too), but not --input-type, which a
  // worker refuses at start when the parent ran `node --input-type=module -e ...`.
  const execArgv = process.execArgv.filter((a) => !a.startsWith('--input-type'));
  if (!moduleUrl.endsWith('.ts')) return { script: new URL('./worker.js', moduleUrl), eval: false, execArgv };
  const worker = new URL('./worker.ts', moduleUrl).href;
  const bootstrap = `import(${JSON.stringify(tsxEsmApi(moduleUrl))}).then((tsx) => tsx.tsImport(${JSON.stringify(worker)}, ${JSON.stringify(moduleUrl)}))`;
  return { script: bootstrap, eval: true, execArgv };
}

/** tsx's ESM API, found from this file (not the working directory); require.resolve would give its CommonJS twin. */
function tsxEsmApi(moduleUrl: string): string {
  const manifestPath = createRequire(moduleUrl).resolve('tsx/package.json');
  const manifest = JSON.parse(readFileSync(manifestPath, 'utf8')) as { exports: Record<string, { import: { default: string } }> };
  const entry = manifest.exports['./esm/api']?.import.default;
  if (!entry) throw new Error(`tsx at ${manifestPath} has no ./esm/api export: install the tsx version in package.json`);
  return new URL(entry, pathToFileURL(manifestPath)).href;
}
