// Just-in-time access: ask for a connection, decide others' requests, see one's own.
import { useState } from 'preact/hooks';
import { errorMessage } from '../api';
import { LiveStatus } from '../components/LiveStatus';
import { Notice } from '../components/Notice';
import { ReviewCard, type DecisionOutcome } from '../components/ReviewCard';
import { listReviews, requestAccess } from '../endpoints';
import { formatSeconds, formatTime } from '../format';
import { useLoad, useNow, usePendingReviews } from '../hooks';
import type { Review } from '../types';

// What the form proposes: the API's own example, short enough to be a sensible default.
const kDefaultDuration = '30m';

function AccessRequestForm({ onCreated }: { onCreated: () => void }) {
  const [connection, setConnection] = useState('');
  const [duration, setDuration] = useState(kDefaultDuration);
  const [reason, setReason] = useState('');
  const [busy, setBusy] = useState(false);
  const [result, setResult] = useState<{ ok: boolean; text: string } | null>(null);

  const submit = async (event: Event) => {
    event.preventDefault();
    setBusy(true);
    try {
      const review = await requestAccess(connection.trim(), duration.trim(), reason.trim());
      setResult({ ok: true, text: `Request ${review.id} created; status ${review.status}.` });
      setReason('');
      onCreated();
    } catch (error) {
      setResult({ ok: false, text: errorMessage(error) });
    } finally {
      setBusy(false);
    }
  };

  return (
    <form onSubmit={(event) => void submit(event)}>
      <fieldset class="grid">
        <label>
          Connection
          <input
            data-testid="access-connection"
            name="connection"
            required
            value={connection}
            onInput={(event) => setConnection(event.currentTarget.value)}
            placeholder="app-db"
          />
        </label>
        <label>
          Duration
          <input
            data-testid="access-duration"
            name="duration"
            required
            value={duration}
            onInput={(event) => setDuration(event.currentTarget.value)}
            placeholder="30m"
          />
        </label>
      </fieldset>
      <label>
        Reason
        <input
          data-testid="access-reason"
          name="reason"
          required
          value={reason}
          onInput={(event) => setReason(event.currentTarget.value)}
          placeholder="INC-4711: fix the stuck orders"
        />
      </label>
      <button type="submit" data-testid="access-submit" disabled={busy} aria-busy={busy}>
        Request access
      </button>
      {result && (
        <Notice kind={result.ok ? 'success' : 'error'} testId="access-result">
          {result.text}
        </Notice>
      )}
    </form>
  );
}

function OwnRequests({ requests }: { requests: Review[] }) {
  if (requests.length === 0) return <p class="empty">You have asked for no access yet.</p>;
  return (
    <div class="overflow-auto">
      <table class="striped">
        <thead>
          <tr>
            <th scope="col">Id</th>
            <th scope="col">Connection</th>
            <th scope="col">For</th>
            <th scope="col">Reason</th>
            <th scope="col">Status</th>
            <th scope="col">Asked (UTC)</th>
            <th scope="col">Granted until (UTC)</th>
          </tr>
        </thead>
        <tbody>
          {requests.map((request) => (
            <tr key={request.id} data-testid={`access-request-${request.id}`}>
              <td>
                <code>{request.id}</code>
              </td>
              <td>{request.connection}</td>
              <td>{formatSeconds(request.duration_s)}</td>
              <td>{request.reason}</td>
              <td>
                <span class={`status status-${request.status}`}>{request.status}</span>
                {request.decided_by && ` by ${request.decided_by}`}
              </td>
              <td>{formatTime(request.created)}</td>
              <td>{formatTime(request.grant_expires)}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

export function Access({ subject }: { subject: string }) {
  const { reviews, status, refresh } = usePendingReviews();
  const nowMs = useNow();
  const [outcome, setOutcome] = useState<DecisionOutcome | null>(null);
  // Without a status filter the API answers every review the caller may see, newest first.
  const own = useLoad((signal) => listReviews(undefined, signal), []);

  const pendingAccess = reviews?.filter((review) => review.kind === 'access');
  const ownRequests = own.data?.filter((review) => review.kind === 'access' && review.requester === subject);

  const refreshAll = () => {
    refresh();
    own.reload();
  };

  return (
    <section>
      <hgroup class="page-title">
        <h2>Access requests</h2>
        <p>Ask for a connection whose rule needs a request, for a limited time.</p>
      </hgroup>
      <article>
        <AccessRequestForm onCreated={refreshAll} />
      </article>

      <h3>
        Pending requests <LiveStatus status={status} />
      </h3>
      {outcome && (
        <Notice kind={outcome.ok ? 'success' : 'error'} testId="review-message">
          {outcome.text}
        </Notice>
      )}
      {pendingAccess === undefined ? (
        <p aria-busy="true">Loading…</p>
      ) : pendingAccess.length === 0 ? (
        <p class="empty">No access requests waiting.</p>
      ) : (
        pendingAccess.map((review) => (
          <ReviewCard
            key={review.id}
            review={review}
            nowMs={nowMs}
            onDecided={(decided) => {
              setOutcome(decided);
              refreshAll();
            }}
          />
        ))
      )}

      <h3>Your requests</h3>
      {own.error && <Notice kind="error">{own.error}</Notice>}
      {ownRequests === undefined ? !own.error && <p aria-busy="true">Loading…</p> : <OwnRequests requests={ownRequests} />}
    </section>
  );
}
