import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { forgetCredential, setCredential } from '../auth';
import { followReviews, type StreamStatus } from '../review_stream';
import type { Review } from '../types';

// A response whose body arrives in the given pieces, split wherever the test likes, and then
// either ends or stays open.
function streamingResponse(pieces: string[], stayOpen = false): Response {
  const encoder = new TextEncoder();
  const body = new ReadableStream<Uint8Array>({
    start(controller) {
      for (const piece of pieces) controller.enqueue(encoder.encode(piece));
      if (!stayOpen) controller.close();
    },
  });
  return new Response(body, { status: 200, headers: { 'Content-Type': 'text/event-stream' } });
}

// Lets pending stream reads and promise callbacks run without moving the fake clock (unlike
// vi.waitFor, which advances it).
async function settle(): Promise<void> {
  for (let round = 0; round < 10; round++) await new Promise((resolve) => setImmediate(resolve));
}

describe('followReviews', () => {
  const fetchMock = vi.fn<typeof fetch>();

  beforeEach(() => {
    // Only the reconnect timer is faked; streams and promises run as they would.
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    vi.stubGlobal('fetch', fetchMock);
    fetchMock.mockReset();
    setCredential('secret-token');
  });

  afterEach(() => {
    vi.useRealTimers();
    vi.unstubAllGlobals();
    forgetCredential();
  });

  it('reads the reviews events of a stream split mid-line and mid-character', async () => {
    const document = JSON.stringify({ reviews: [{ id: 'r-1', command: 'select ’quoted’' }] });
    const text = `: keep-alive\r\n\r\nevent: reviews\r\ndata: ${document}\r\n\r\n`;
    // Cut inside the three-byte UTF-8 quote as well as between CR and LF.
    const bytes = new TextEncoder().encode(text);
    const quoteAt = bytes.indexOf(0xe2);
    const encoded = [bytes.slice(0, 14), bytes.slice(14, quoteAt + 1), bytes.slice(quoteAt + 1)];
    const body = new ReadableStream<Uint8Array>({
      start(controller) {
        for (const piece of encoded) controller.enqueue(piece);
      },
    });
    fetchMock.mockResolvedValue(new Response(body, { status: 200 }));

    const received: Review[][] = [];
    const statuses: StreamStatus[] = [];
    const stop = followReviews({ onReviews: (reviews) => received.push(reviews), onStatus: (s) => statuses.push(s) });
    await settle();
    expect(received).toHaveLength(1);
    expect(received[0][0].command).toBe('select ’quoted’');
    expect(statuses).toContain('live');

    const [path, init] = fetchMock.mock.calls[0];
    expect(path).toBe('/api/v1/reviews/stream');
    expect(new Headers(init?.headers).get('Authorization')).toBe('Bearer secret-token');
    expect(new Headers(init?.headers).get('Accept')).toBe('text/event-stream');
    stop();
  });

  it('reconnects after the stream ends, 1 s later', async () => {
    fetchMock.mockImplementation(async () => streamingResponse(['event: reviews\ndata: {"reviews":[]}\n\n']));
    const statuses: StreamStatus[] = [];
    const stop = followReviews({ onReviews: () => {}, onStatus: (s) => statuses.push(s) });
    await settle();
    expect(statuses).toEqual(['connecting', 'live', 'reconnecting']);
    expect(fetchMock).toHaveBeenCalledTimes(1);
    await vi.advanceTimersByTimeAsync(999);
    expect(fetchMock).toHaveBeenCalledTimes(1);
    await vi.advanceTimersByTimeAsync(1);
    expect(fetchMock).toHaveBeenCalledTimes(2);
    stop();
  });

  it('backs off while the gateway keeps failing', async () => {
    fetchMock.mockRejectedValue(new TypeError('Failed to fetch'));
    const stop = followReviews({ onReviews: () => {}, onStatus: () => {} });
    await settle();
    expect(fetchMock).toHaveBeenCalledTimes(1);
    await vi.advanceTimersByTimeAsync(1000);
    expect(fetchMock).toHaveBeenCalledTimes(2);
    await vi.advanceTimersByTimeAsync(2000);
    expect(fetchMock).toHaveBeenCalledTimes(3);
    await vi.advanceTimersByTimeAsync(3999);
    expect(fetchMock).toHaveBeenCalledTimes(3);
    await vi.advanceTimersByTimeAsync(1);
    expect(fetchMock).toHaveBeenCalledTimes(4);
    stop();
  });

  it('stops for good when told to', async () => {
    fetchMock.mockImplementation(async () => streamingResponse([': keep-alive\n\n'], true));
    const stop = followReviews({ onReviews: () => {}, onStatus: () => {} });
    await settle();
    expect(fetchMock).toHaveBeenCalledTimes(1);
    const signal = fetchMock.mock.calls[0][1]?.signal;
    stop();
    expect(signal?.aborted).toBe(true);
    await vi.advanceTimersByTimeAsync(60_000);
    expect(fetchMock).toHaveBeenCalledTimes(1);
  });

  it('does not retry a refused credential', async () => {
    fetchMock.mockResolvedValue(
      new Response(JSON.stringify({ error: { code: 'unauthorized', message: 'expired' } }), { status: 401 }),
    );
    const stop = followReviews({ onReviews: () => {}, onStatus: () => {} });
    await settle();
    expect(fetchMock).toHaveBeenCalledTimes(1);
    await vi.advanceTimersByTimeAsync(60_000);
    expect(fetchMock).toHaveBeenCalledTimes(1);
    stop();
  });
});
