/**
 * The CLI as a child process for the engine tests: `node --import tsx test/helpers/engine-cli-entry.ts ...`.
 * src/cli/main.ts only runs itself when argv[1] ends in `drivesnap` or `cli/main.js` (the built file), so
 * run through tsx it does nothing: this entry calls its main() the way the built entry does.
 */
import { main } from '../../src/cli/main.js';

// Ctrl-C and SIGTERM: main() installs the CLI's own stop handlers (src/cli/stop.ts), as in the real entry.
process.exitCode = await main(process.argv.slice(2));
