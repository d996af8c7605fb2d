/** The CLI as a child process for the ops tests: `node --import tsx test/helpers/ops-cli-entry.ts ...`. */
import { main } from '../../src/cli/main.js';

// Ctrl-C and SIGTERM: main() installs the CLI's own stop handlers (src/cli/stop.ts), as in the real entry.
process.exitCode = await main(process.argv.slice(2));
