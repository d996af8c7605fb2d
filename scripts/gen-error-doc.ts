/**
 * Writes docs/errors.md from the error registry (src/errors.ts): `npm run docs:errors`.
 * test/cli/errors-doc.test.ts fails when the doc and the registry differ.
 */
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { ERROR_REGISTRY, ExitCode } from '../src/errors.js';

const HEAD = `# Error codes

Every error drivesnap reports carries a stable code (in \`--json\` output: \`{"error":{"code":...,"message":...}}\`)
and exits with the code below. The message itself names the object concerned and what to do.
This file is generated from the registry in \`src/errors.ts\` by \`npm run docs:errors\`; do not edit it by hand.

| exit code | meaning |
|---|---|
| 0 | success |
| 1 | failure |
| 2 | usage: bad input (command line, a configuration or job file, an environment variable) |
| 3 | partial: some drives failed, the others were done |
| 10 | repository not found |
| 11 | repository locked by another process |
| 12 | wrong password |
| 130 | interrupted (Ctrl-C, SIGTERM) |

| code | exit code | meaning | what to do |
|---|---|---|---|
`;

function cell(text: string): string {
  return text.replaceAll('|', '\\|');
}

export function renderErrorDoc(): string {
  const rows = Object.entries(ERROR_REGISTRY).map(
    ([code, e]) => `| \`${code}\` | ${ExitCode[e.exit]} | ${cell(e.meaning)} | ${cell(e.todo)} |`,
  );
  return `${HEAD}${rows.join('\n')}\n`;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  writeFileSync(new URL('../docs/errors.md', import.meta.url), renderErrorDoc());
}
