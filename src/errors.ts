/**
 * Errors every layer of drivesnap throws: a stable string code for programs, an exit code for the CLI
 * (cli.md), and a one-line message for people that names the problem and what to do. Messages never carry
 * secrets: callers pass object names and offsets, never credentials.
 */
export const ExitCode = {
  ok: 0,
  failure: 1,
  usage: 2,
  partial: 3,
  repoNotFound: 10,
  repoLocked: 11,
  wrongPassword: 12,
  interrupted: 130,
} as const;
export type ExitCodeValue = (typeof ExitCode)[keyof typeof ExitCode];

export class DrivesnapError extends Error {
  override name = 'DrivesnapError';
  constructor(
    /** Stable machine-readable code, e.g. `REPO_LOCKED`, `CHUNK_CORRUPT`. */
    readonly code: string,
    message: string,
    readonly exitCode: ExitCodeValue = ExitCode.failure,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

export class UsageError extends DrivesnapError {
  override name = 'UsageError';
  constructor(message: string) {
    super('USAGE', message, ExitCode.usage);
  }
}

/** Turns anything thrown into a one-line message without stack noise. */
export function errorMessage(err: unknown): string {
  if (err instanceof Error) return err.message.split('\n')[0] ?? String(err);
  return String(err);
}
