// Counts the last day's statements into hourly buckets for the overview chart: all commands,
// refusals (verdict deny) and holds (verdict review_pending).
import { parseTime } from './format';

export const kHourMs = 3_600_000;

export interface Bucket {
  // Start of the hour the bucket covers, milliseconds since the epoch.
  startMs: number;
  commands: number;
  refusals: number;
  holds: number;
}

export interface Overview {
  buckets: Bucket[];
  totals: { commands: number; refusals: number; holds: number };
}

// hours buckets of one hour each, the last one holding the current hour, so the chart ends
// "now". Buckets start on the hour, so that the labels read 13:00, 14:00, not 13:27.
export function bucketStatements(
  events: { time: string; verdict?: string; event?: string }[],
  nowMs: number,
  hours = 24,
): Overview {
  const currentHourMs = Math.floor(nowMs / kHourMs) * kHourMs;
  const firstMs = currentHourMs - (hours - 1) * kHourMs;
  const buckets: Bucket[] = [];
  for (let index = 0; index < hours; index++) {
    buckets.push({ startMs: firstMs + index * kHourMs, commands: 0, refusals: 0, holds: 0 });
  }
  const totals = { commands: 0, refusals: 0, holds: 0 };
  for (const event of events) {
    if (event.event !== undefined && event.event !== 'statement') continue;
    const timeMs = parseTime(event.time);
    if (Number.isNaN(timeMs) || timeMs < firstMs || timeMs >= currentHourMs + kHourMs) continue;
    const bucket = buckets[Math.floor((timeMs - firstMs) / kHourMs)];
    bucket.commands++;
    totals.commands++;
    if (event.verdict === 'deny') {
      bucket.refusals++;
      totals.refusals++;
    } else if (event.verdict === 'review_pending') {
      bucket.holds++;
      totals.holds++;
    }
  }
  return { buckets, totals };
}
