/** Which command modules a command line loads: start-up cost grows with every module imported. */
import { expect, it } from 'vitest';
import { commandNames, loadCommands } from '../../src/cli/commands/index.js';

const names = async (argv: string[]) => (await loadCommands(argv)).map((c) => String(c.command).split(' ')[0]);

it('loads none for a bare --version', async () => {
  expect(await loadCommands(['--version'])).toEqual([]);
  expect(await loadCommands(['--version', '--json'])).toEqual([]);
});

it('loads only the command named', async () => {
  expect(await names(['backup', '--version'])).toEqual(['backup']);
});

it('loads all of them for help, with or without --version', async () => {
  expect(await names(['--help'])).toHaveLength(commandNames.length);
  expect(await names(['--version', '--help'])).toHaveLength(commandNames.length);
  expect(await names([])).toHaveLength(commandNames.length);
});
