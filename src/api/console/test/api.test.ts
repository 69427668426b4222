import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { ApiError, query, requestJson, setUnauthorizedHandler } from '../api';
import { forgetCredential, setCredential } from '../auth';
import { parseReviewsEvent, reconnectDelayMs } from '../review_stream';

function jsonResponse(status: number, body: unknown): Response {
  return new Response(JSON.stringify(body), { status, headers: { 'Content-Type': 'application/json' } });
}

describe('requestJson', () => {
  const fetchMock = vi.fn<typeof fetch>();

  beforeEach(() => {
    vi.stubGlobal('fetch', fetchMock);
    fetchMock.mockReset();
    setCredential('secret-token');
  });

  afterEach(() => {
    vi.unstubAllGlobals();
    forgetCredential();
    setUnauthorizedHandler(null);
  });

  it('sends the bearer credential and parses JSON', async () => {
    fetchMock.mockResolvedValue(jsonResponse(200, { subject: 'alice' }));
    await expect(requestJson('/api/v1/me')).resolves.toEqual({ subject: 'alice' });
    const [path, init] = fetchMock.mock.calls[0];
    expect(path).toBe('/api/v1/me');
    expect(new Headers(init?.headers).get('Authorization')).toBe('Bearer secret-token');
    expect(init?.credentials).toBe('omit');
  });

  it('sends no credential on an anonymous request', async () => {
    fetchMock.mockResolvedValue(jsonResponse(200, { oidc: [] }));
    await requestJson('/api/v1/console/config', { anonymous: true });
    expect(new Headers(fetchMock.mock.calls[0][1]?.headers).has('Authorization')).toBe(false);
  });

  it('sends a JSON body on POST', async () => {
    fetchMock.mockResolvedValue(jsonResponse(200, {}));
    await requestJson('/api/v1/reviews/r-1/approve', { method: 'POST', body: { comment: 'ok' } });
    const init = fetchMock.mock.calls[0][1];
    expect(init?.method).toBe('POST');
    expect(init?.body).toBe('{"comment":"ok"}');
    expect(new Headers(init?.headers).get('Content-Type')).toBe('application/json');
  });

  it('maps the error document to an ApiError', async () => {
    fetchMock.mockResolvedValue(
      jsonResponse(409, { error: { code: 'conflict', message: 'the review is already decided' } }),
    );
    const error = await requestJson('/api/v1/reviews/r-1/approve', { method: 'POST' }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ApiError);
    expect(error).toMatchObject({ status: 409, code: 'conflict', message: 'the review is already decided' });
  });

  it('maps a body that is not the error document to the status line', async () => {
    fetchMock.mockResolvedValue(new Response('<html>bad gateway</html>', { status: 502, statusText: 'Bad Gateway' }));
    await expect(requestJson('/api/v1/me')).rejects.toMatchObject({
      status: 502,
      code: 'http_502',
      message: '502 Bad Gateway',
    });
  });

  it('maps a network failure to code "network"', async () => {
    fetchMock.mockRejectedValue(new TypeError('Failed to fetch'));
    await expect(requestJson('/api/v1/me')).rejects.toMatchObject({ status: 0, code: 'network' });
  });

  it('calls the unauthorized handler on a 401', async () => {
    const handler = vi.fn();
    setUnauthorizedHandler(handler);
    fetchMock.mockResolvedValue(jsonResponse(401, { error: { code: 'unauthorized', message: 'token expired' } }));
    await expect(requestJson('/api/v1/sessions')).rejects.toMatchObject({ status: 401 });
    expect(handler).toHaveBeenCalledOnce();
    expect(handler.mock.calls[0][0]).toMatchObject({ code: 'unauthorized', message: 'token expired' });
  });

  it('does not call the handler on a 403', async () => {
    const handler = vi.fn();
    setUnauthorizedHandler(handler);
    fetchMock.mockResolvedValue(jsonResponse(403, { error: { code: 'forbidden', message: 'no' } }));
    await expect(requestJson('/api/v1/sessions')).rejects.toMatchObject({ status: 403, code: 'forbidden' });
    expect(handler).not.toHaveBeenCalled();
  });

  it('refuses a success that is not JSON', async () => {
    fetchMock.mockResolvedValue(new Response('not json', { status: 200 }));
    await expect(requestJson('/api/v1/me')).rejects.toMatchObject({ code: 'bad_response' });
  });
});

describe('query', () => {
  it('leaves out empty parameters and encodes the rest', () => {
    expect(query({ subject: 'alice', verdict: '', limit: 50, before: undefined, contains: 'a b&c' })).toBe(
      '?subject=alice&limit=50&contains=a+b%26c',
    );
    expect(query({ status: undefined })).toBe('');
  });
});

describe('reconnectDelayMs', () => {
  it('waits 1 s, then doubles to at most 10 s', () => {
    expect([1, 2, 3, 4, 5, 9].map(reconnectDelayMs)).toEqual([1000, 2000, 4000, 8000, 10000, 10000]);
  });
});

describe('parseReviewsEvent', () => {
  it('reads the list of a reviews event', () => {
    expect(parseReviewsEvent('{"reviews":\n[{"id":"r-1"}]}')).toEqual([{ id: 'r-1' }]);
    expect(parseReviewsEvent('{"reviews":[]}')).toEqual([]);
  });

  it('answers null for data that is not a reviews document', () => {
    expect(parseReviewsEvent('{"reviews":')).toBeNull();
    expect(parseReviewsEvent('{"other":[]}')).toBeNull();
    expect(parseReviewsEvent('null')).toBeNull();
  });
});
