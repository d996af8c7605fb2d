/**
 * The CLI entry for the `-` tests: as test/helpers/engine-cli-entry.ts, with each lone `-` protected from
 * yargs the way main() should do it itself (src/config/locations.ts, protectDashArgs). Once main() does,
 * protecting again changes nothing.
 */
import { main } from '../../src/cli/main.js';
import { protectDashArgs } from '../../src/config/locations.js';

process.exitCode = await main(protectDashArgs(process.argv.slice(2)));
