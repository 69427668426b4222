// Follows GET /api/v1/reviews/stream: the whole list of pending reviews the caller may see,
// once at the start and again on every change. Read with fetch() so that the bearer header
// goes along, and reconnected with a growing delay when it ends or fails.
import { ApiError, send } from './api';
import { SseParser } from './sse';
import type { Review } from './types';

export type StreamStatus = 'connecting' | 'live' | 'reconnecting';

// 1 s after the first failure, doubling to at most 10 s: quick to recover from a restart,
// gentle on a gateway that is down.
const kFirstRetryMs = 1000;
const kLongestRetryMs = 10000;

export function reconnectDelayMs(failuresInARow: number): number {
  if (failuresInARow <= 0) return 0;
  return Math.min(kFirstRetryMs * 2 ** (failuresInARow - 1), kLongestRetryMs);
}

// The data of a `reviews` event: {"reviews": [...]}, or null when it is not that.
export function parseReviewsEvent(data: string): Review[] | null {
  try {
    const document = JSON.parse(data) as { reviews?: unknown };
    return Array.isArray(document.reviews) ? (document.reviews as Review[]) : null;
  } catch {
    return null;
  }
}

export interface ReviewStreamHandlers {
  onReviews: (reviews: Review[]) => void;
  onStatus: (status: StreamStatus) => void;
}

// Starts following the stream; the answer stops it (on sign-out or when the page closes).
export function followReviews(handlers: ReviewStreamHandlers): () => void {
  const controller = new AbortController();
  let failuresInARow = 0;
  let retryTimer: ReturnType<typeof setTimeout> | undefined;

  const readOnce = async (): Promise<void> => {
    const response = await send('/api/v1/reviews/stream', {
      signal: controller.signal,
      accept: 'text/event-stream',
    });
    if (!response.body) throw new ApiError(response.status, 'bad_response', 'The stream has no body.');
    const reader = response.body.getReader();
    // stream: true keeps a UTF-8 sequence split across two chunks whole.
    const decoder = new TextDecoder();
    const parser = new SseParser(() => handlers.onStatus('live'));
    handlers.onStatus('live');
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return;
      for (const event of parser.feed(decoder.decode(value, { stream: true }))) {
        if (event.type !== 'reviews') continue;
        failuresInARow = 0;
        const reviews = parseReviewsEvent(event.data);
        // A damaged event is skipped: the next change sends the whole list again.
        if (reviews !== null) handlers.onReviews(reviews);
      }
    }
  };

  const run = async (): Promise<void> => {
    handlers.onStatus(failuresInARow === 0 ? 'connecting' : 'reconnecting');
    try {
      await readOnce();
    } catch (error) {
      if (controller.signal.aborted) return;
      // A refused credential is not retried: the sign-out it caused ends this stream anyway.
      if (error instanceof ApiError && error.status === 401) return;
    }
    if (controller.signal.aborted) return;
    failuresInARow++;
    handlers.onStatus('reconnecting');
    retryTimer = setTimeout(() => void run(), reconnectDelayMs(failuresInARow));
  };

  void run();
  return () => {
    controller.abort();
    if (retryTimer !== undefined) clearTimeout(retryTimer);
  };
}
