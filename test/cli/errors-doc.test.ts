/**
 * docs/errors.md is the error registry as a table (`npm run docs:errors` writes it); every code thrown in
 * src/ is registered, and DrivesnapError takes its exit code from the registry.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { ApiError, ERROR_WORDS, STATUS_OF_WORD } from '../../src/api/errors.js';
import { DrivesnapError, ERROR_REGISTRY, ExitCode, UsageError, exitCodeOf, isErrorCode } from '../../src/errors.js';
import { renderErrorDoc } from '../../scripts/gen-error-doc.js';

const root = fileURLToPath(new URL('../../', import.meta.url));

describe('the error registry', () => {
  it('docs/errors.md is the registry as generated: run npm run docs:errors when this fails', () => {
    const doc = readFileSync(`${root}docs/errors.md`, 'utf8');
    expect(doc).toBe(renderErrorDoc());
    for (const code of Object.keys(ERROR_REGISTRY)) expect(doc).toContain(`| \`${code}\` |`);
  });

  it('gives a thrown error the exit code registered for its code', () => {
    expect(new DrivesnapError('REPO_LOCKED', 'x').exitCode).toBe(ExitCode.repoLocked);
    expect(new DrivesnapError('WRONG_PASSWORD', 'x').exitCode).toBe(12);
    expect(new DrivesnapError('INTERRUPTED', 'x').exitCode).toBe(130);
    expect(new UsageError('x')).toMatchObject({ code: 'USAGE', exitCode: 2 });
    const cause = new Error('inner');
    expect(new DrivesnapError('CHUNK_CORRUPT', 'x', { cause })).toMatchObject({ exitCode: 1, cause });
    // The deprecated forms, until every throw site is converted: an explicit exit code wins; unknown codes exit 1.
    expect(new DrivesnapError('SNAPSHOT_NOT_FOUND', 'x', ExitCode.usage).exitCode).toBe(2);
    expect(new DrivesnapError('NOT_REGISTERED_YET', 'x').exitCode).toBe(1);
    expect(exitCodeOf('NOT_REGISTERED_YET')).toBe(1);
  });

  it('registers the code of every API error word', () => {
    for (const word of ERROR_WORDS) {
      const err = new ApiError({ status: STATUS_OF_WORD[word], word, body: 'b', call: 'GET /x' });
      expect(isErrorCode(err.code), err.code).toBe(true);
    }
  });

  it('registers every code thrown in src/ (a literal code in a DrivesnapError, a subclass or a `code:` option)', () => {
    const files = execFileSync('git', ['ls-files', '--cached', '--others', '--exclude-standard', 'src/*.ts'], { cwd: root, encoding: 'utf8' })
      .split('\n')
      .filter(Boolean);
    const unregistered: string[] = [];
    const thrown = /(?:new\s+\w*Error\(|super\()\s*'([A-Z][A-Z0-9_]+)'/g;
    for (const file of files) {
      let text: string;
      try {
        text = readFileSync(`${root}${file}`, 'utf8');
      } catch {
        continue; // listed but deleted in the work tree
      }
      for (const m of text.matchAll(thrown)) if (!isErrorCode(m[1]!)) unregistered.push(`${file}: ${m[1]}`);
    }
    expect(unregistered, 'add these codes to ERROR_REGISTRY in src/errors.ts').toEqual([]);
  });
});
