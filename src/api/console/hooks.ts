// Small Preact hooks the pages share: a clock for countdowns, a loader with abort and reload,
// and the live list of pending reviews.
import { useCallback, useEffect, useRef, useState } from 'preact/hooks';
import { ApiError, errorMessage } from './api';
import { listReviews } from './endpoints';
import { followReviews, type StreamStatus } from './review_stream';
import type { Review } from './types';

// The current time, updated every intervalMs; one timer per page drives every countdown on it.
export function useNow(intervalMs = 1000): number {
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    const timer = setInterval(() => setNow(Date.now()), intervalMs);
    return () => clearInterval(timer);
  }, [intervalMs]);
  return now;
}

export interface Loaded<T> {
  data: T | undefined;
  error: string | null;
  loading: boolean;
  reload: () => void;
}

// Runs load() on mount, whenever a key changes and on reload(); an answer that arrives after
// a newer request started is dropped, so the page never shows stale data over fresh.
export function useLoad<T>(load: (signal: AbortSignal) => Promise<T>, keys: unknown[]): Loaded<T> {
  const [data, setData] = useState<T | undefined>(undefined);
  const [error, setError] = useState<string | null>(null);
  const [loading, setLoading] = useState(true);
  const [generation, setGeneration] = useState(0);
  const loadRef = useRef(load);
  loadRef.current = load;

  useEffect(() => {
    const controller = new AbortController();
    setLoading(true);
    loadRef.current(controller.signal).then(
      (value) => {
        if (controller.signal.aborted) return;
        setData(value);
        setError(null);
        setLoading(false);
      },
      (failure: unknown) => {
        if (controller.signal.aborted) return;
        // A 401 already sent the application back to sign-in.
        if (failure instanceof ApiError && failure.status === 401) return;
        setError(errorMessage(failure));
        setLoading(false);
      },
    );
    return () => controller.abort();
  }, [...keys, generation]);

  const reload = useCallback(() => setGeneration((value) => value + 1), []);
  return { data, error, loading, reload };
}

export interface PendingReviews {
  reviews: Review[] | undefined;
  status: StreamStatus;
  refresh: () => void;
}

// The pending reviews the caller may see: fetched once at once (so the page fills even when
// the stream is slow or down), then kept current by the stream.
export function usePendingReviews(): PendingReviews {
  const [reviews, setReviews] = useState<Review[] | undefined>(undefined);
  const [status, setStatus] = useState<StreamStatus>('connecting');

  const refresh = useCallback(() => {
    listReviews('pending').then(setReviews, () => {
      // The stream or the next refresh brings the list; a failure here shows as the status.
    });
  }, []);

  useEffect(() => {
    refresh();
    return followReviews({ onReviews: setReviews, onStatus: setStatus });
  }, [refresh]);

  return { reviews, status, refresh };
}
