// The default page: statements held for review, live from the review stream.
import { useState } from 'preact/hooks';
import { LiveStatus } from '../components/LiveStatus';
import { Notice } from '../components/Notice';
import { ReviewCard, type DecisionOutcome } from '../components/ReviewCard';
import { useNow, usePendingReviews } from '../hooks';

export function Reviews() {
  const { reviews, status, refresh } = usePendingReviews();
  const nowMs = useNow();
  const [outcome, setOutcome] = useState<DecisionOutcome | null>(null);

  const statements = reviews?.filter((review) => review.kind !== 'access');
  const accessCount = reviews?.filter((review) => review.kind === 'access').length ?? 0;

  const onDecided = (decided: DecisionOutcome) => {
    setOutcome(decided);
    refresh();
  };

  return (
    <section>
      <hgroup class="page-title">
        <h2>Reviews</h2>
        <p>
          Statements held until a reviewer decides. <LiveStatus status={status} />
        </p>
      </hgroup>
      {outcome && (
        <Notice kind={outcome.ok ? 'success' : 'error'} testId="review-message">
          {outcome.text}
        </Notice>
      )}
      {accessCount > 0 && (
        <p>
          <a href="#/access">
            {accessCount} access {accessCount === 1 ? 'request waits' : 'requests wait'}
          </a>{' '}
          on the access requests page.
        </p>
      )}
      {statements === undefined ? (
        <p aria-busy="true">Loading reviews…</p>
      ) : statements.length === 0 ? (
        <p class="empty">No reviews waiting.</p>
      ) : (
        statements.map((review) => <ReviewCard key={review.id} review={review} nowMs={nowMs} onDecided={onDecided} />)
      )}
    </section>
  );
}
