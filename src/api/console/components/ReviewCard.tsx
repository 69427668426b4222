// One review: what waits, who asked, how many approvals it has, the time left, and, for a
// caller the rule names as a reviewer, the controls to approve or reject it.
import { useState } from 'preact/hooks';
import { errorMessage } from '../api';
import { decideReview } from '../endpoints';
import { formatSeconds, formatTime, formatWaitLeft } from '../format';
import type { Approval, Review } from '../types';

export interface DecisionOutcome {
  reviewId: string;
  ok: boolean;
  text: string;
}

export interface ReviewCardProps {
  review: Review;
  nowMs: number;
  onDecided: (outcome: DecisionOutcome) => void;
}

function approverName(approval: Approval): string {
  if (typeof approval === 'string') return approval;
  return approval.subject ?? approval.by ?? approval.reviewer ?? '?';
}

function describeOutcome(decision: 'approve' | 'reject', review: Review): string {
  const verb = decision === 'approve' ? 'Approved' : 'Rejected';
  if (review.status === 'pending') {
    return `${verb} ${review.id}: ${review.approvals.length} of ${review.min_approvals} approvals so far, still pending.`;
  }
  return `${verb} ${review.id}: the review is now ${review.status}.`;
}

export function ReviewCard({ review, nowMs, onDecided }: ReviewCardProps) {
  const [comment, setComment] = useState('');
  const [busy, setBusy] = useState(false);
  const waitLeft = formatWaitLeft(review.expires, nowMs);

  const decide = async (decision: 'approve' | 'reject') => {
    setBusy(true);
    try {
      const after = await decideReview(review.id, decision, comment);
      onDecided({ reviewId: review.id, ok: true, text: describeOutcome(decision, after) });
      setComment('');
    } catch (error) {
      onDecided({ reviewId: review.id, ok: false, text: `${review.id}: ${errorMessage(error)}` });
    } finally {
      setBusy(false);
    }
  };

  return (
    <article data-testid={`review-${review.id}`} class="review">
      <header class="review-header">
        <strong>{review.kind === 'access' ? `Access to ${review.connection}` : review.connection}</strong>
        {review.protocol && <span class="tag">{review.protocol}</span>}
        <span class={waitLeft === 'expired' ? 'wait-left expired' : 'wait-left'} title={`expires ${formatTime(review.expires)} UTC`}>
          {waitLeft}
        </span>
      </header>
      {review.command !== undefined && (
        <pre data-testid="review-command">
          <code>{review.command}</code>
        </pre>
      )}
      <dl class="facts">
        <dt>Requested by</dt>
        <dd>{review.requester}</dd>
        <dt>Connection</dt>
        <dd>{review.connection}</dd>
        {review.protocol && (
          <>
            <dt>Protocol</dt>
            <dd>{review.protocol}</dd>
          </>
        )}
        {review.rule && (
          <>
            <dt>Rule</dt>
            <dd>{review.rule}</dd>
          </>
        )}
        {review.reason && (
          <>
            <dt>Reason</dt>
            <dd>{review.reason}</dd>
          </>
        )}
        {review.duration_s !== undefined && (
          <>
            <dt>For</dt>
            <dd>{formatSeconds(review.duration_s)}</dd>
          </>
        )}
        <dt>Approvals</dt>
        <dd>
          {review.approvals.length} / {review.min_approvals}
          {review.approvals.length > 0 && ` (${review.approvals.map(approverName).join(', ')})`}
        </dd>
        <dt>Asked</dt>
        <dd>{formatTime(review.created)} UTC</dd>
        <dt>Id</dt>
        <dd>
          <code>{review.id}</code>
        </dd>
      </dl>
      {review.may_decide === true && review.status === 'pending' && (
        <footer>
          <label>
            Comment
            <textarea
              data-testid={`comment-${review.id}`}
              rows={2}
              value={comment}
              onInput={(event) => setComment(event.currentTarget.value)}
              placeholder="Optional: why you decided so"
            />
          </label>
          <div class="decision-buttons">
            <button
              type="button"
              data-testid={`approve-${review.id}`}
              disabled={busy}
              aria-busy={busy}
              onClick={() => void decide('approve')}
            >
              Approve
            </button>
            <button
              type="button"
              class="secondary"
              data-testid={`reject-${review.id}`}
              disabled={busy}
              onClick={() => void decide('reject')}
            >
              Reject
            </button>
          </div>
        </footer>
      )}
    </article>
  );
}
