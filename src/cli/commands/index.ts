/** Every command of the CLI, in the order `--help` lists them. Each module exports `command`. */
import type { CommandModule } from 'yargs';
import { command as backup } from './backup.js';
import { command as check } from './check.js';
import { command as prune } from './prune.js';
import { command as cat } from './cat.js';
import { command as clone } from './clone.js';
import { command as copy } from './copy.js';
import { command as drives } from './drives.js';
import { command as emulator } from './emulator.js';
import { command as indexCmd } from './index-cmd.js';
import { command as init } from './init.js';
import { command as key } from './key.js';
import { command as restore } from './restore.js';
import { command as snapshots } from './snapshots.js';
import { command as unlock } from './unlock.js';

// biome-ignore lint/suspicious/noExplicitAny: yargs command modules differ in their argument types
export const commands: CommandModule<any, any>[] = [
  init,
  backup,
  snapshots,
  restore,
  copy,
  clone,
  prune,
  check,
  drives,
  key,
  indexCmd,
  unlock,
  cat,
  emulator,
];
