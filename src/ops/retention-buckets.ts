/**
 * The calendar buckets retention rules count: a snapshot is kept for `daily` when it is the newest of its
 * day. Keys are wall-clock labels in the policy's time zone, so they double as the reason shown to users
 * (`daily 2025-01-03`). Like restic, buckets follow the wall clock: the hour repeated when clocks go back
 * is one hourly bucket, and days are 23 or 25 hours long around transitions.
 */
import { isoWeek, type WallTime } from './calendar.js';

export type BucketRule = 'hourly' | 'daily' | 'weekly' | 'monthly' | 'yearly';
export const BUCKET_RULES: readonly BucketRule[] = ['hourly', 'daily', 'weekly', 'monthly', 'yearly'];

function pad(value: number, width = 2): string {
  const text = String(Math.abs(value)).padStart(width, '0');
  return value < 0 ? `-${text}` : text;
}

export function bucketKey(rule: BucketRule, w: WallTime): string {
  const date = `${pad(w.year, 4)}-${pad(w.month)}-${pad(w.day)}`;
  switch (rule) {
    case 'hourly':
      return `${date}T${pad(w.hour)}`;
    case 'daily':
      return date;
    case 'weekly': {
      const week = isoWeek(w.year, w.month, w.day);
      return `${pad(week.year, 4)}-W${pad(week.week)}`;
    }
    case 'monthly':
      return `${pad(w.year, 4)}-${pad(w.month)}`;
    case 'yearly':
      return pad(w.year, 4);
  }
}
