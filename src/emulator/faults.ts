/**
 * Fault injection: added latency, error answers, connections reset mid-body and slow bodies, decided per
 * request from a seeded PRNG so a failing run can be replayed with the same seed and request order.
 */
import { UsageError } from '../errors.js';
import { parseSize } from '../util/size.js';
import { type Random, seededRandom } from '../util/prng.js';

export interface FaultSpec {
  /** Added to every request. */
  latencyMs?: number;
  /** 0..1, fraction answered 409 busy. */
  busyRate?: number;
  /** 0..1, fraction answered 500 system. */
  systemRate?: number;
  /** 0..1, fraction whose connection is destroyed mid-body. */
  resetRate?: number;
  slowBodyBytesPerSec?: number;
  /** Limit faults to these call kinds, e.g. ['read','write']; default: all calls. */
  calls?: string[];
  seed?: number;
}

export type FaultAction = 'none' | 'busy' | 'system' | 'reset';

export interface FaultDecision {
  latencyMs: number;
  action: FaultAction;
  /** For a reset write: whether the data is applied before the connection dies. */
  applyBeforeReset: boolean;
  slowBodyBytesPerSec: number;
}

const NO_FAULT: FaultDecision = { latencyMs: 0, action: 'none', applyBeforeReset: false, slowBodyBytesPerSec: 0 };

function parseRate(key: string, value: string): number {
  const percent = value.endsWith('%');
  const n = Number(percent ? value.slice(0, -1) : value);
  const rate = percent ? n / 100 : n;
  if (!Number.isFinite(rate) || rate < 0 || rate > 1) {
    throw new UsageError(`fault spec: ${key}=${value} must be a fraction 0..1 or a percentage`);
  }
  return rate;
}

function parseCount(key: string, value: string): number {
  const n = parseSize(value);
  if (n === undefined) throw new UsageError(`fault spec: ${key}=${value} must be a whole number`);
  return n;
}

/**
 * Parses `busy=0.1,system=0.1,reset=0.05,latency=20,slow=1M,seed=7,calls=read+write`. Rates take a
 * fraction or a percentage (`10%`); `slow` is bytes per second with an optional k/M/G suffix.
 */
export function parseFaultSpec(text: string): FaultSpec {
  const spec: FaultSpec = {};
  for (const part of text.split(/[,\s]+/).filter((p) => p !== '')) {
    const eq = part.indexOf('=');
    if (eq < 0) throw new UsageError(`fault spec: "${part}" is not KEY=VALUE (e.g. busy=0.1,seed=7)`);
    const key = part.slice(0, eq).toLowerCase();
    const value = part.slice(eq + 1);
    switch (key) {
      case 'busy':
        spec.busyRate = parseRate(key, value);
        break;
      case 'system':
        spec.systemRate = parseRate(key, value);
        break;
      case 'reset':
        spec.resetRate = parseRate(key, value);
        break;
      case 'latency':
        spec.latencyMs = parseCount(key, value);
        break;
      case 'slow':
        spec.slowBodyBytesPerSec = parseCount(key, value);
        break;
      case 'seed':
        spec.seed = parseCount(key, value);
        break;
      case 'calls':
        spec.calls = value.split('+').filter((c) => c !== '');
        break;
      default:
        throw new UsageError(`fault spec: unknown key "${key}" (known: busy, system, reset, latency, slow, seed, calls)`);
    }
  }
  const total = (spec.busyRate ?? 0) + (spec.systemRate ?? 0) + (spec.resetRate ?? 0);
  if (total > 1) throw new UsageError('fault spec: busy + system + reset must not exceed 1');
  return spec;
}

/** Whether `kind` (e.g. `drives.read`) is selected by a calls list naming `read` or `drives.read`. */
export function callMatches(calls: string[] | undefined, kind: string): boolean {
  if (!calls || calls.length === 0) return true;
  const action = kind.slice(kind.lastIndexOf('.') + 1);
  return calls.some((c) => c === kind || c === action);
}

export class FaultInjector {
  private spec: FaultSpec | undefined;
  private random: Random = seededRandom(0);

  constructor(spec: FaultSpec | undefined) {
    this.set(spec);
  }

  set(spec: FaultSpec | undefined): void {
    this.spec = spec;
    this.random = seededRandom(spec?.seed ?? Date.now());
  }

  /** Draws the fault for one request of the given call kind; consumes the PRNG only for matching calls. */
  decide(kind: string): FaultDecision {
    const spec = this.spec;
    if (!spec || !callMatches(spec.calls, kind)) return NO_FAULT;
    const r = this.random();
    const busy = spec.busyRate ?? 0;
    const system = busy + (spec.systemRate ?? 0);
    const reset = system + (spec.resetRate ?? 0);
    const action: FaultAction = r < busy ? 'busy' : r < system ? 'system' : r < reset ? 'reset' : 'none';
    return {
      latencyMs: spec.latencyMs ?? 0,
      action,
      applyBeforeReset: action === 'reset' && this.random() < 0.5,
      slowBodyBytesPerSec: spec.slowBodyBytesPerSec ?? 0,
    };
  }
}
