/**
 * Numeric command-line options, checked where they are parsed. yargs turns `--concurrency abc` into NaN
 * and lets it through; a NaN concurrency once ran no range at all and committed an empty snapshot. Every
 * numeric option of every command is declared through `withNumbers`, so a bad value is a usage error
 * (exit 2) naming the option and what it takes, before any work starts.
 */
import type { Argv } from 'yargs';
import { DEFAULT_CONCURRENCY } from '../engine/defaults.js';
import { UsageError } from '../errors.js';

export interface NumberSpec {
  description: string;
  /** Whole numbers only (the default); false accepts fractions, e.g. seconds. */
  whole?: boolean;
  min: number;
  /** The minimum itself is not accepted (e.g. a timeout must be > 0). */
  aboveMin?: boolean;
  max?: number;
  default?: number;
  /** Also accepted, outside [min, max] (e.g. -1 for "unlimited"). */
  special?: { value: number; meaning: string };
}

/** What the option takes, in words: "a whole number from 1 to 256". */
export function describeNumber(spec: NumberSpec): string {
  const kind = spec.whole === false ? 'a number' : 'a whole number';
  const range =
    spec.max === undefined
      ? `${kind} ${spec.aboveMin ? '>' : '>='} ${spec.min}`
      : `${kind} from ${spec.min} to ${spec.max}${spec.aboveMin ? ` (more than ${spec.min})` : ''}`;
  return spec.special ? `${range}, or ${spec.special.value} for ${spec.special.meaning}` : range;
}

/** Checks one value; the error names `--name` and what it takes. Pure, so tests call it directly. */
export function checkNumber(name: string, spec: NumberSpec, value: unknown): number {
  const n = typeof value === 'string' && value.trim() !== '' ? Number(value) : value;
  const inRange = (x: number) => (spec.aboveMin ? x > spec.min : x >= spec.min) && (spec.max === undefined || x <= spec.max);
  const ok =
    typeof n === 'number' &&
    Number.isFinite(n) &&
    (spec.whole === false || Number.isInteger(n)) &&
    (n === spec.special?.value || inRange(n));
  if (!ok) {
    const given = typeof value === 'number' && Number.isNaN(value) ? 'the value given is not a number' : `got ${String(value)}`;
    throw new UsageError(`--${name} takes ${describeNumber(spec)} (${given})`);
  }
  return n as number;
}

/**
 * Declares numeric options and one check over them. A check, not a coerce: yargs rewraps a coerce's error
 * as its own (exit 1), while a check's error reaches the CLI as thrown (a UsageError, exit 2).
 */
export function withNumbers<T>(y: Argv<T>, specs: Record<string, NumberSpec>): Argv<T> {
  for (const [name, spec] of Object.entries(specs)) {
    y = y.option(name, { type: 'number', description: spec.description, ...(spec.default === undefined ? {} : { default: spec.default }) });
  }
  return y.check((argv) => {
    for (const [name, spec] of Object.entries(specs)) {
      const value = (argv as Record<string, unknown>)[name];
      // A repeated option arrives as an array: each value must be valid.
      for (const v of Array.isArray(value) ? value : [value]) if (v !== undefined) checkNumber(name, spec, v);
    }
    return true;
  });
}

/** Ranges (requests) in flight at once: more than this only queues in the HTTP pool. */
export const MAX_CONCURRENCY = 256;
const DAY_S = 86_400;

export const concurrency = (description = 'Ranges in flight at once'): NumberSpec => ({ description, min: 1, max: MAX_CONCURRENCY, default: DEFAULT_CONCURRENCY });

/** gzip level for writes to a drive; 0 sends raw ranges. */
export const compressLevel = (description: string): NumberSpec => ({ description, min: 0, max: 9, default: 1 });

export const waitLock = (): NumberSpec => ({ description: 'Seconds to wait for other locks before giving up', whole: false, min: 0, max: DAY_S });

export const shutdownTimeout = (description: string): NumberSpec => ({ description, whole: false, min: 0, aboveMin: true, max: DAY_S });
