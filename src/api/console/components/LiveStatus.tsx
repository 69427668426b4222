// Whether the review list on screen is live or waiting for the stream to come back.
import type { StreamStatus } from '../review_stream';

const kLabels: Record<StreamStatus, string> = {
  connecting: 'connecting…',
  live: 'live',
  reconnecting: 'reconnecting…',
};

export function LiveStatus({ status }: { status: StreamStatus }) {
  return (
    <small data-testid="live-status" class={`live-status live-status-${status}`} aria-live="polite">
      {kLabels[status]}
    </small>
  );
}
