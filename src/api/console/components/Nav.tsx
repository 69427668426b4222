// The top bar: the pages this caller may open, who is signed in, and the way out.
import { mayOpen, type PageName } from '../routes';
import type { Me } from '../types';

const kLinks: { page: PageName; label: string; href: string }[] = [
  { page: 'reviews', label: 'Reviews', href: '#/reviews' },
  { page: 'access', label: 'Access', href: '#/access' },
  { page: 'sessions', label: 'Sessions', href: '#/sessions' },
  { page: 'journal', label: 'Journal', href: '#/journal' },
  { page: 'verify', label: 'Verify', href: '#/verify' },
  { page: 'overview', label: 'Overview', href: '#/overview' },
];

// The detail and replay pages belong under the link of the list they come from.
function sectionOf(page: PageName): PageName {
  if (page === 'event') return 'journal';
  if (page === 'replay') return 'sessions';
  return page;
}

export function Nav({ me, current, onSignOut }: { me: Me; current: PageName; onSignOut: () => void }) {
  const section = sectionOf(current);
  return (
    <nav class="container top-nav">
      <ul>
        <li>
          <strong class="brand">Portcullis</strong>
        </li>
      </ul>
      <ul>
        {kLinks
          .filter((link) => mayOpen(link.page, me.roles))
          .map((link) => (
            <li key={link.page}>
              <a
                href={link.href}
                data-testid={`nav-${link.page}`}
                aria-current={section === link.page ? 'page' : undefined}
              >
                {link.label}
              </a>
            </li>
          ))}
      </ul>
      <ul>
        <li>
          <span data-testid="whoami" class="whoami" title={me.groups.length ? `groups: ${me.groups.join(', ')}` : undefined}>
            {me.subject}
          </span>
        </li>
        <li>
          <button type="button" class="outline secondary small" data-testid="sign-out" onClick={onSignOut}>
            Sign out
          </button>
        </li>
      </ul>
    </nav>
  );
}
