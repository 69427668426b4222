// The last day at a glance: commands, refusals and holds per hour, counted in the browser
// from one journal search.
import { BarChart } from '../components/BarChart';
import { Notice } from '../components/Notice';
import { searchAudit } from '../endpoints';
import { useLoad } from '../hooks';
import { bucketStatements } from '../overview';

// The API's largest page: a busier day is shown as its newest 10000 statements, and says so.
const kStatementLimit = 10000;

export function Overview() {
  const search = useLoad(async (signal) => {
    const events = await searchAudit({ event: 'statement', since: '24h', limit: kStatementLimit }, signal);
    return { events, fetchedAtMs: Date.now() };
  }, []);
  const overview = search.data ? bucketStatements(search.data.events, search.data.fetchedAtMs) : undefined;
  const limited = search.data !== undefined && search.data.events.length >= kStatementLimit;

  return (
    <section>
      <hgroup class="page-title">
        <h2>Overview</h2>
        <p>The last 24 hours, by the hour (UTC).</p>
      </hgroup>
      <button type="button" class="secondary" onClick={search.reload} aria-busy={search.loading} disabled={search.loading}>
        Refresh
      </button>
      {search.error && <Notice kind="error">{search.error}</Notice>}
      {overview && (
        <article>
          <div class="totals grid">
            <div>
              <span class="legend legend-commands" aria-hidden="true" /> Commands
              <strong data-testid="total-commands">{overview.totals.commands}</strong>
            </div>
            <div>
              <span class="legend legend-refusals" aria-hidden="true" /> Refused
              <strong data-testid="total-refusals">{overview.totals.refusals}</strong>
            </div>
            <div>
              <span class="legend legend-holds" aria-hidden="true" /> Held for review
              <strong data-testid="total-holds">{overview.totals.holds}</strong>
            </div>
          </div>
          <BarChart buckets={overview.buckets} />
          {limited && <small>Based on the newest {kStatementLimit} statements.</small>}
        </article>
      )}
    </section>
  );
}
