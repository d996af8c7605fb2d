/**
 * Saves the state atomically (temp file + rename, so a crash leaves the old or the new file, never half
 * of one) and coalesces saves: metadata changes wait for their save; counter updates only mark the state
 * dirty and are written shortly after, so the I/O path never waits on a JSON dump.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { type EmulatorState, emptyState } from './state.js';
import { EmulatorStateError } from './state-errors.js';
import { writeFileAtomic } from '../util/write-file-atomic.js';

// accounts.ts still imports it from here.

const STATE_FILE = 'state.json';
const LAZY_SAVE_DELAY_MS = 250;

export async function loadState(dataDir: string): Promise<EmulatorState> {
  let text: string;
  try {
    text = await readFile(join(dataDir, STATE_FILE), 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return emptyState();
    throw err;
  }
  let parsed: EmulatorState;
  try {
    parsed = JSON.parse(text) as EmulatorState;
  } catch (err) {
    throw new EmulatorStateError(join(dataDir, STATE_FILE), `not valid JSON (${(err as Error).message})`, { cause: err });
  }
  if (parsed?.version !== 1) throw new EmulatorStateError(join(dataDir, STATE_FILE), `unknown state version ${parsed?.version}`);
  // Before separate address pools, one `lastIp` counter served both: the pools start afresh and skip
  // whatever is in use.
  const { lastIp: _oldCounter, ...rest } = parsed as EmulatorState & { lastIp?: number };
  return { ...emptyState(), ...rest };
}

export class StateSaver {
  private saving: Promise<void> | undefined;
  /** Saves asked for so far, and how many of them the last completed write covers. */
  private requested = 0;
  private written = 0;
  private lazyTimer: NodeJS.Timeout | undefined;
  /** After close(), late updates from requests still in flight are not written. */
  private closed = false;

  constructor(
    private readonly dataDir: string,
    private readonly state: EmulatorState,
  ) {}

  /**
   * Saves now (after any save in flight) and resolves once the current state is on disk. A write in flight
   * may predate this call's change, so this waits for one that started after it: concurrent callers share
   * that write, and none returns before it lands.
   */
  async save(): Promise<void> {
    if (this.closed) return;
    const mine = ++this.requested;
    while (this.written < mine) {
      if (this.saving) {
        await this.saving;
        continue;
      }
      // The state is serialized now, synchronously: this write covers every save asked for so far.
      const covers = this.requested;
      this.saving = writeFileAtomic(join(this.dataDir, STATE_FILE), JSON.stringify(this.state));
      try {
        await this.saving;
        this.written = covers;
      } finally {
        this.saving = undefined;
      }
    }
  }

  /** Marks the state dirty; it is saved within LAZY_SAVE_DELAY_MS. */
  saveLater(): void {
    if (this.lazyTimer || this.closed) return;
    this.lazyTimer = setTimeout(() => {
      this.lazyTimer = undefined;
      this.save().catch((err: unknown) => process.stderr.write(`emulator: saving state failed: ${String(err)}\n`));
    }, LAZY_SAVE_DELAY_MS);
    this.lazyTimer.unref();
  }

  /** Writes any pending change and stops the lazy timer. */
  async flush(): Promise<void> {
    if (this.lazyTimer) {
      clearTimeout(this.lazyTimer);
      this.lazyTimer = undefined;
    }
    await this.save();
  }

  async close(): Promise<void> {
    await this.flush();
    this.closed = true;
  }
}
