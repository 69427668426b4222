import { describe, expect, it } from 'vitest';
import { bucketStatements, kHourMs } from '../overview';

const kNow = Date.parse('2026-11-25T21:30:00Z');

describe('bucketStatements', () => {
  it('makes 24 hourly buckets ending with the current hour', () => {
    const { buckets } = bucketStatements([], kNow);
    expect(buckets).toHaveLength(24);
    expect(new Date(buckets[23].startMs).toISOString()).toBe('2026-11-25T21:00:00.000Z');
    expect(new Date(buckets[0].startMs).toISOString()).toBe('2026-11-24T22:00:00.000Z');
    for (let index = 1; index < buckets.length; index++) {
      expect(buckets[index].startMs - buckets[index - 1].startMs).toBe(kHourMs);
    }
  });

  it('counts commands, refusals and holds in their hour', () => {
    const { buckets, totals } = bucketStatements(
      [
        { time: '2026-11-25T21:05:00.123456789Z', verdict: 'allow' },
        { time: '2026-11-25T21:29:59Z', verdict: 'deny' },
        { time: '2026-11-25T20:59:59Z', verdict: 'review_pending' },
        { time: '2026-11-25T20:00:00Z', verdict: 'approved' },
        { time: '2026-11-24T22:00:00Z', verdict: 'deny' },
      ],
      kNow,
    );
    expect(buckets[23]).toMatchObject({ commands: 2, refusals: 1, holds: 0 });
    expect(buckets[22]).toMatchObject({ commands: 2, refusals: 0, holds: 1 });
    expect(buckets[0]).toMatchObject({ commands: 1, refusals: 1, holds: 0 });
    expect(totals).toEqual({ commands: 5, refusals: 2, holds: 1 });
  });

  it('leaves out what is outside the window, unreadable, or not a statement', () => {
    const { totals } = bucketStatements(
      [
        { time: '2026-11-24T21:59:59Z', verdict: 'deny' },
        { time: '2026-11-25T22:00:00Z', verdict: 'deny' },
        { time: 'yesterday', verdict: 'deny' },
        { time: '2026-11-25T21:00:00Z', verdict: 'allow', event: 'connect' },
      ],
      kNow,
    );
    expect(totals).toEqual({ commands: 0, refusals: 0, holds: 0 });
  });

  it('takes another window length', () => {
    expect(bucketStatements([], kNow, 6).buckets).toHaveLength(6);
  });
});
