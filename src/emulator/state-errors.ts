import { DrivesnapError } from '../errors.js';

/**
 * The emulator's saved state (DATA_DIR/state.json) cannot be used: written by another version, or not
 * JSON. Refused rather than replaced with an empty state, which would lose every drive in the data dir.
 */
export class EmulatorStateError extends DrivesnapError {
  override name = 'EmulatorStateError';
  constructor(
    readonly path: string,
    why: string,
    options?: { cause?: unknown },
  ) {
    super('EMULATOR_STATE_UNREADABLE', `${path}: ${why}; start the emulator on another --data directory, or remove that one to start empty`, undefined, options);
  }
}
