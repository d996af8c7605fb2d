/**
 * The CLI as a child process for the engine tests: `node --import tsx test/helpers/engine-cli-entry.ts ...`.
 * src/cli/main.ts only runs itself when argv[1] ends in `drivesnap` or `cli/main.js` (the built file), so
 * run through tsx it does nothing: this entry calls its main() the way the built entry does.
 */
import { main } from '../../src/cli/main.js';

process.on('SIGINT', () => process.exit(130));
process.exitCode = await main(process.argv.slice(2));
