/**
 * A simulated wide-area link: latency added to every request before it is answered, and a bandwidth per
 * account, shared by all its connections, for request bodies (upload) and response bodies (download),
 * each direction on its own (a full-duplex link). Changeable at run time, like the faults: requests that
 * arrive afterwards use the new settings, and a body already being paced follows a new rate (or its
 * removal) from its next slice on.
 */
import { UsageError } from '../errors.js';
import { TokenBucket } from '../store/bandwidth.js';
import { parseSize } from '../util/size.js';

export interface WanSpec {
  /** Milliseconds added to every request before its answer. */
  latencyMs?: number;
  /** Bytes per second per account and direction; absent: unlimited. */
  bandwidthBytesPerSec?: number;
}

/** Bodies move in slices of at most this size, so connections of one account interleave fairly. */
export const WAN_SLICE_BYTES = 64 * 1024;

const BIT_RATE_RE = /^(\d+(?:\.\d+)?)\s*([kmg]?)(?:bit|bps|b)(?:\/s)?$/i;
const BIT_UNIT: Record<string, number> = { '': 1, k: 1e3, m: 1e6, g: 1e9 };

/**
 * `what` names the value in the error (`--bandwidth 1Gbt`). `125M` or `125M/s`: bytes per second (k/M/G/T, 1024-based, as every size here); `1Gbit`, `100Mbit/s`,
 * `10Mbps`: bits per second (1000-based, as links are sold).
 */
export function parseBandwidth(what: string, text: string): number {
  const trimmed = text.trim();
  const bits = BIT_RATE_RE.exec(trimmed);
  const rate = bits ? Math.floor((Number(bits[1]) * BIT_UNIT[bits[2]!.toLowerCase()]!) / 8) : parseSize(trimmed.replace(/\/s$/i, ''));
  if (rate === undefined || !(rate > 0)) {
    throw new UsageError(`${what}: expected bytes per second such as 125M, or bits per second such as 1Gbit`);
  }
  return rate;
}

export class Wan {
  private spec: WanSpec = {};
  private readonly buckets = new Map<string, TokenBucket>();

  constructor(spec: WanSpec | undefined) {
    this.set(spec);
  }

  set(spec: WanSpec | undefined): void {
    const rate = spec?.bandwidthBytesPerSec;
    if (rate !== undefined && !(rate > 0)) throw new RangeError(`WAN bandwidth must be positive, got ${rate}`);
    if (spec?.latencyMs !== undefined && !(spec.latencyMs >= 0)) throw new RangeError(`WAN latency must be >= 0, got ${spec.latencyMs}`);
    this.spec = { ...spec };
    this.buckets.clear();
  }

  get latencyMs(): number {
    return this.spec.latencyMs ?? 0;
  }

  /**
   * A pacer for one account and direction: call it before moving each slice of a body. Undefined when the
   * bandwidth is unlimited, so the fast path stays a plain write.
   */
  pacer(user: string, direction: 'up' | 'down'): ((bytes: number) => Promise<void>) | undefined {
    if (this.spec.bandwidthBytesPerSec === undefined) return undefined;
    return async (bytes) => {
      const rate = this.spec.bandwidthBytesPerSec;
      if (rate === undefined) return;
      const key = `${direction} ${user}`;
      let bucket = this.buckets.get(key);
      if (!bucket) {
        bucket = new TokenBucket(rate, WAN_SLICE_BYTES);
        this.buckets.set(key, bucket);
      }
      const wait = bucket.reserve(bytes);
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    };
  }
}
