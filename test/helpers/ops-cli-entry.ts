/**
 * The CLI as a child process for the ops tests. src/cli/main.ts does not run itself under tsx (its entry
 * check wants `drivesnap` or `cli/main.js`), and the ops commands may not be registered in
 * src/cli/commands/index.ts yet: this entry adds any that are missing, then calls main() as the built entry does.
 */
import { main } from '../../src/cli/main.js';
import { commands } from '../../src/cli/commands/index.js';
import { command as diff } from '../../src/cli/commands/diff.js';
import { command as forget } from '../../src/cli/commands/forget.js';
import { command as run } from '../../src/cli/commands/run.js';
import { command as stats } from '../../src/cli/commands/stats.js';

const name = (c: { command?: unknown }) => String(c.command).split(' ')[0];
for (const c of [forget, diff, stats, run]) {
  if (!commands.some((x) => name(x) === name(c))) commands.push(c as (typeof commands)[number]);
}
process.on('SIGINT', () => process.exit(130));
process.exitCode = await main(process.argv.slice(2));
