/** The CLI as a child process for the ops tests: `node --import tsx test/helpers/ops-cli-entry.ts ...`. */
import { main } from '../../src/cli/main.js';

process.on('SIGINT', () => process.exit(130));
process.exitCode = await main(process.argv.slice(2));
