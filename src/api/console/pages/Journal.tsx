// The audit journal: search with the API's filters, newest first, and page to older records.
import { useEffect, useState } from 'preact/hooks';
import { ApiError, errorMessage } from '../api';
import { Notice } from '../components/Notice';
import { searchAudit, type AuditFilters } from '../endpoints';
import { formatDurationUs, formatTime, oneLine } from '../format';
import type { AuditEvent } from '../types';

// One screenful; older pages are appended below.
export const kJournalPageSize = 50;

const kVerdicts = ['', 'allow', 'deny', 'review_pending', 'approved', 'rejected', 'expired'];
const kEventTypes = ['statement', 'connect', 'disconnect', 'result'];

export interface JournalFilters {
  subject: string;
  connection: string;
  verdict: string;
  event: string;
  since: string;
  contains: string;
}

// Kept by the application rather than the page, so that coming back from an event's detail
// shows the same search, and so that signing out forgets it.
export interface JournalState {
  filters: JournalFilters;
  // Newest first; undefined before the first search.
  events: AuditEvent[] | undefined;
  // The search had no older records left.
  exhausted: boolean;
}

export const kInitialJournalState: JournalState = {
  filters: { subject: '', connection: '', verdict: '', event: 'statement', since: '', contains: '' },
  events: undefined,
  exhausted: false,
};

// Where an event's detail page is: its cursor, which names one record among every instance's
// (seq alone repeats across instances sharing a store); seq where a cursor is missing.
function eventAddress(event: AuditEvent): string {
  return String(event.cursor ?? event.seq);
}

// The API answers the newest matches oldest first; the table wants newest first. The cursor
// for the next older page is that of the oldest record on the page: the first one received.
function pageRequest(filters: JournalFilters, before?: string): AuditFilters {
  return { ...filters, limit: kJournalPageSize, before };
}

function oldestCursor(events: AuditEvent[]): string | undefined {
  const oldest = events[events.length - 1];
  if (!oldest) return undefined;
  return String(oldest.cursor ?? oldest.seq);
}

export function Journal({ state, setState }: { state: JournalState; setState: (next: JournalState) => void }) {
  const [draft, setDraft] = useState<JournalFilters>(state.filters);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);

  const run = async (filters: JournalFilters, older: boolean) => {
    setBusy(true);
    setError(null);
    try {
      const before = older && state.events ? oldestCursor(state.events) : undefined;
      const page = (await searchAudit(pageRequest(filters, before))).reverse();
      const events = older && state.events ? [...state.events, ...page] : page;
      setState({ filters, events, exhausted: page.length < kJournalPageSize });
    } catch (failure) {
      if (!(failure instanceof ApiError && failure.status === 401)) setError(errorMessage(failure));
    } finally {
      setBusy(false);
    }
  };

  // The first visit shows the newest statements without waiting for a click.
  useEffect(() => {
    if (state.events === undefined) void run(state.filters, false);
  }, []);

  const field = (name: keyof JournalFilters) => ({
    value: draft[name],
    onInput: (event: Event) => setDraft({ ...draft, [name]: (event.currentTarget as HTMLInputElement).value }),
  });

  return (
    <section>
      <hgroup class="page-title">
        <h2>Journal</h2>
        <p>Every statement, connection and result the gateway saw, hash-chained.</p>
      </hgroup>
      <form
        class="filters"
        onSubmit={(event) => {
          event.preventDefault();
          void run(draft, false);
        }}
      >
        <div class="grid">
          <label>
            Subject
            <input data-testid="filter-subject" {...field('subject')} placeholder="alice" />
          </label>
          <label>
            Connection
            <input data-testid="filter-connection" {...field('connection')} placeholder="app-db" />
          </label>
          <label>
            Verdict
            <select
              data-testid="filter-verdict"
              value={draft.verdict}
              onChange={(event) => setDraft({ ...draft, verdict: event.currentTarget.value })}
            >
              {kVerdicts.map((verdict) => (
                <option key={verdict} value={verdict}>
                  {verdict === '' ? 'any' : verdict}
                </option>
              ))}
            </select>
          </label>
        </div>
        <div class="grid">
          <label>
            Event
            <select
              data-testid="filter-event"
              value={draft.event}
              onChange={(event) => setDraft({ ...draft, event: event.currentTarget.value })}
            >
              {kEventTypes.map((type) => (
                <option key={type} value={type}>
                  {type}
                </option>
              ))}
            </select>
          </label>
          <label>
            Since
            <input data-testid="filter-since" {...field('since')} placeholder="1h, 1d or 2026-11-25T21:00:00Z" />
          </label>
          <label>
            Command contains
            <input data-testid="filter-contains" {...field('contains')} placeholder="orders" />
          </label>
        </div>
        <button type="submit" data-testid="search" disabled={busy} aria-busy={busy}>
          Search
        </button>
      </form>

      {error && <Notice kind="error">{error}</Notice>}
      {state.events !== undefined &&
        (state.events.length === 0 ? (
          <p class="empty">No records match.</p>
        ) : (
          <>
            <div class="overflow-auto">
              <table class="striped events">
                <thead>
                  <tr>
                    <th scope="col">Time (UTC)</th>
                    <th scope="col">Subject</th>
                    <th scope="col">Connection</th>
                    <th scope="col">Protocol</th>
                    <th scope="col">Verdict</th>
                    <th scope="col">Command</th>
                    <th scope="col">Rows</th>
                    <th scope="col">Duration</th>
                  </tr>
                </thead>
                <tbody>
                  {state.events.map((event) => (
                    <tr
                      key={eventAddress(event)}
                      data-testid={`event-${event.seq}`}
                      class="clickable"
                      onClick={() => {
                        location.hash = `#/journal/${eventAddress(event)}`;
                      }}
                    >
                      <td class="nowrap">
                        <a href={`#/journal/${eventAddress(event)}`}>{formatTime(event.time)}</a>
                      </td>
                      <td>{event.subject}</td>
                      <td>{event.connection}</td>
                      <td>{event.protocol}</td>
                      <td>{event.verdict && <span class={`verdict verdict-${event.verdict}`}>{event.verdict}</span>}</td>
                      <td class="command-cell">
                        <code>{oneLine(event.command)}</code>
                      </td>
                      <td class="number">{event.rows}</td>
                      <td class="number">{formatDurationUs(event.duration_us)}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
            <p>
              {state.events.length} record{state.events.length === 1 ? '' : 's'} shown.{' '}
              {!state.exhausted && (
                <button
                  type="button"
                  class="secondary"
                  data-testid="older"
                  disabled={busy}
                  aria-busy={busy}
                  onClick={() => void run(state.filters, true)}
                >
                  Older
                </button>
              )}
            </p>
          </>
        ))}
    </section>
  );
}
