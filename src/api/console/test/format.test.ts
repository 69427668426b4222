import { describe, expect, it } from 'vitest';
import {
  formatAge,
  formatBytes,
  formatDurationUs,
  formatSeconds,
  formatTime,
  formatWaitLeft,
  oneLine,
} from '../format';

const kNow = Date.parse('2026-11-25T21:00:00Z');

describe('formatWaitLeft', () => {
  it('counts seconds, minutes, hours and days', () => {
    expect(formatWaitLeft('2026-11-25T21:00:09Z', kNow)).toBe('9s left');
    expect(formatWaitLeft('2026-11-25T21:04:12Z', kNow)).toBe('4m 12s left');
    expect(formatWaitLeft('2026-11-25T23:05:30Z', kNow)).toBe('2h 5m left');
    expect(formatWaitLeft('2026-11-27T00:00:00Z', kNow)).toBe('1d 3h left');
  });

  it('reads the nanosecond times the server writes', () => {
    expect(formatWaitLeft('2026-11-25T21:04:12.999999999Z', kNow)).toBe('4m 12s left');
  });

  it('rounds down, so it never promises more time than is left', () => {
    expect(formatWaitLeft('2026-11-25T21:00:01.500Z', kNow)).toBe('1s left');
    expect(formatWaitLeft('2026-11-25T21:00:00.900Z', kNow)).toBe('expired');
  });

  it('says expired at and after the deadline', () => {
    expect(formatWaitLeft('2026-11-25T21:00:00Z', kNow)).toBe('expired');
    expect(formatWaitLeft('2026-11-25T20:00:00Z', kNow)).toBe('expired');
  });

  it('writes nothing for a time it cannot read', () => {
    expect(formatWaitLeft('soon', kNow)).toBe('');
  });
});

describe('other formats', () => {
  it('writes journal times in UTC to the second', () => {
    expect(formatTime('2026-11-25T21:04:05.123456789Z')).toBe('2026-11-25 21:04:05');
    expect(formatTime(undefined)).toBe('');
  });

  it('writes ages', () => {
    expect(formatAge('2026-11-25T20:56:55Z', kNow)).toBe('3m 5s');
    expect(formatAge('2026-11-25T21:00:05Z', kNow)).toBe('0s');
  });

  it('writes statement durations', () => {
    expect(formatDurationUs(412)).toBe('412 µs');
    expect(formatDurationUs(3250)).toBe('3.3 ms');
    expect(formatDurationUs(1_500_000)).toBe('1.50 s');
    expect(formatDurationUs(125_000_000)).toBe('2m 5s');
    expect(formatDurationUs(undefined)).toBe('');
  });

  it('writes access durations without a zero tail', () => {
    expect(formatSeconds(1800)).toBe('30m');
    expect(formatSeconds(3600)).toBe('1h');
    expect(formatSeconds(90)).toBe('1m 30s');
  });

  it('writes sizes in binary units', () => {
    expect(formatBytes(71)).toBe('71 B');
    expect(formatBytes(2048)).toBe('2.0 KiB');
    expect(formatBytes(50 * 1024 * 1024)).toBe('50 MiB');
    expect(formatBytes(undefined)).toBe('');
  });

  it('puts a command on one line and shortens a long one', () => {
    expect(oneLine('select *\n  from t\twhere x')).toBe('select * from t where x');
    const long = oneLine('x'.repeat(300), 20);
    expect(long).toHaveLength(20);
    expect(long.endsWith('…')).toBe(true);
  });
});
