/**
 * When jobs are due: cadences (`prune: { every: 7d }`) measured from the last run, and cron schedules for
 * `run --daemon` read by croner. Pure: the caller passes the clock.
 */
import { Cron } from 'croner';
import { DrivesnapError, UsageError } from '../errors.js';
import { assertTimeZone } from './calendar.js';
import { addDuration, parseDuration } from './duration.js';

/**
 * True when `every` has passed since the last run (calendar arithmetic in UTC: `1m` after 31 January is
 * 3 March). Never run, or a last-run record that is not a date, counts as due: we cannot show it ran.
 */
export function isDue(lastRunIso: string | undefined, every: string, now: Date): boolean {
  const interval = parseDuration(every);
  if (lastRunIso === undefined) return true;
  const lastRun = new Date(lastRunIso);
  if (Number.isNaN(lastRun.getTime())) return true;
  return addDuration(lastRun, interval).getTime() <= now.getTime();
}

function parseCron(expression: string, timeZone: string): Cron {
  try {
    // Five fields (minute precision) or six (with seconds); a year field would be surprising in a schedule.
    return new Cron(expression, { timezone: timeZone, mode: '5-or-6-parts', paused: true });
  } catch (err) {
    const reason = err instanceof Error ? err.message.replace(/^CronPattern:\s*/, '') : String(err);
    throw new UsageError(`invalid schedule "${expression}": ${reason}; use a cron expression such as "0 3 * * *"`);
  }
}

/** Why a cron expression cannot be a schedule, or undefined when it can. */
export function cronProblem(expression: string): string | undefined {
  let cron: Cron;
  try {
    cron = parseCron(expression, 'UTC');
  } catch (err) {
    return err instanceof Error ? err.message : String(err);
  }
  // A valid pattern may still name no real time (30 February): a schedule that never fires is a mistake.
  if (cron.nextRun(new Date(0)) === null) return `schedule "${expression}" never runs`;
  return undefined;
}

/** The first time strictly after `after` that the cron expression names, in `timeZone` (default UTC). */
export function nextRun(cron: string, after: Date, timeZone = 'UTC'): Date {
  assertTimeZone(timeZone);
  const next = parseCron(cron, timeZone).nextRun(after);
  if (!next) {
    throw new DrivesnapError('SCHEDULE_NEVER', `schedule "${cron}" has no run after ${after.toISOString()}`);
  }
  return next;
}
