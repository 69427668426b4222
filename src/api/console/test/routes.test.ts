import { describe, expect, it } from 'vitest';
import { mayOpen, parseRoute } from '../routes';

describe('parseRoute', () => {
  it('opens the reviews by default', () => {
    expect(parseRoute('')).toEqual({ page: 'reviews' });
    expect(parseRoute('#/')).toEqual({ page: 'reviews' });
    expect(parseRoute('#/nonsense')).toEqual({ page: 'reviews' });
  });

  it('reads each page and its parameter', () => {
    expect(parseRoute('#/access')).toEqual({ page: 'access' });
    expect(parseRoute('#/journal')).toEqual({ page: 'journal' });
    expect(parseRoute('#/journal/42')).toEqual({ page: 'event', parameter: '42' });
    expect(parseRoute('#/replay/1f2e%2F3d')).toEqual({ page: 'replay', parameter: '1f2e/3d' });
    expect(parseRoute('#/verify')).toEqual({ page: 'verify' });
  });
});

describe('mayOpen', () => {
  const nobody = { admin: false, auditor: false };
  const auditor = { admin: false, auditor: true };
  const admin = { admin: true, auditor: false };

  it('lets everyone see reviews and access requests', () => {
    expect(mayOpen('reviews', nobody)).toBe(true);
    expect(mayOpen('access', nobody)).toBe(true);
  });

  it('keeps live sessions for admins', () => {
    expect(mayOpen('sessions', auditor)).toBe(false);
    expect(mayOpen('sessions', admin)).toBe(true);
  });

  it('opens the journal pages to auditors and admins', () => {
    for (const page of ['journal', 'event', 'verify', 'overview', 'replay'] as const) {
      expect(mayOpen(page, nobody)).toBe(false);
      expect(mayOpen(page, auditor)).toBe(true);
      expect(mayOpen(page, admin)).toBe(true);
    }
  });
});
