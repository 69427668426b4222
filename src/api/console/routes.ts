// Hash routing: which page an address shows, and who may open it.
import type { Me } from './types';

export type PageName = 'reviews' | 'access' | 'sessions' | 'journal' | 'event' | 'verify' | 'overview' | 'replay';

export interface Route {
  page: PageName;
  // The seq of #/journal/<seq> or the session of #/replay/<session>.
  parameter?: string;
}

export function parseRoute(hash: string): Route {
  const parts = hash.replace(/^#\/?/, '').split('/').filter((part) => part !== '');
  const [first, second] = parts;
  const parameter = second === undefined ? undefined : safeDecode(second);
  switch (first) {
    case 'access':
    case 'sessions':
    case 'verify':
    case 'overview':
      return { page: first };
    case 'journal':
      return parameter === undefined ? { page: 'journal' } : { page: 'event', parameter };
    case 'replay':
      return parameter === undefined ? { page: 'sessions' } : { page: 'replay', parameter };
    default:
      return { page: 'reviews' };
  }
}

function safeDecode(part: string): string {
  try {
    return decodeURIComponent(part);
  } catch {
    return part;
  }
}

// Mirrors the API's own rules (docs/api.md, "Who may call what"), so that nobody is shown a
// page whose every call would be refused. The server still decides.
export function mayOpen(page: PageName, roles: Me['roles']): boolean {
  switch (page) {
    case 'reviews':
    case 'access':
      return true;
    case 'sessions':
      return roles.admin;
    case 'journal':
    case 'event':
    case 'verify':
    case 'overview':
    case 'replay':
      return roles.admin || roles.auditor;
  }
}
