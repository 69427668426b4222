// The one way the console talks to the gateway: same origin, the bearer credential on every
// request, JSON in and out, and every failure turned into an ApiError with the server's code.
import { getCredential } from './auth';

export class ApiError extends Error {
  readonly status: number;
  readonly code: string;

  constructor(status: number, code: string, message: string) {
    super(message);
    this.name = 'ApiError';
    this.status = status;
    this.code = code;
  }
}

// Called on any 401 so that the application can return to the sign-in page; set by main.tsx.
let onUnauthorized: ((error: ApiError) => void) | null = null;

export function setUnauthorizedHandler(handler: ((error: ApiError) => void) | null): void {
  onUnauthorized = handler;
}

export interface RequestOptions {
  method?: 'GET' | 'POST' | 'DELETE';
  body?: unknown;
  signal?: AbortSignal;
  // The config endpoint needs no credential, and sending none keeps it that way.
  anonymous?: boolean;
  accept?: string;
}

function requestHeaders(options: RequestOptions): Headers {
  const headers = new Headers();
  headers.set('Accept', options.accept ?? 'application/json');
  if (options.body !== undefined) headers.set('Content-Type', 'application/json');
  const credential = getCredential();
  if (!options.anonymous && credential !== null) {
    headers.set('Authorization', `Bearer ${credential}`);
  }
  return headers;
}

// Maps a non-2xx response to an ApiError, reading the {"error": {"code", "message"}} document
// when there is one; a proxy's HTML error page still gives a readable message.
export async function errorFromResponse(response: Response): Promise<ApiError> {
  let text = '';
  try {
    text = await response.text();
  } catch {
    // The body could not be read; the status alone has to do.
  }
  try {
    const document = JSON.parse(text) as { error?: { code?: unknown; message?: unknown } };
    const code = document.error?.code;
    const message = document.error?.message;
    if (typeof code === 'string' || typeof message === 'string') {
      return new ApiError(
        response.status,
        typeof code === 'string' ? code : `http_${response.status}`,
        typeof message === 'string' ? message : `${response.status} ${response.statusText}`,
      );
    }
  } catch {
    // Not JSON: fall through.
  }
  const fallback = `${response.status} ${response.statusText}`.trim();
  return new ApiError(response.status, `http_${response.status}`, fallback);
}

// Sends a request and answers the raw response once it is known to be a success.
export async function send(path: string, options: RequestOptions = {}): Promise<Response> {
  let response: Response;
  try {
    response = await fetch(path, {
      method: options.method ?? 'GET',
      headers: requestHeaders(options),
      body: options.body === undefined ? undefined : JSON.stringify(options.body),
      signal: options.signal,
      credentials: 'omit',
      cache: 'no-store',
    });
  } catch (cause) {
    if (cause instanceof DOMException && cause.name === 'AbortError') throw cause;
    throw new ApiError(0, 'network', 'The gateway could not be reached.');
  }
  if (!response.ok) {
    const error = await errorFromResponse(response);
    if (response.status === 401 && !options.anonymous && onUnauthorized) onUnauthorized(error);
    throw error;
  }
  return response;
}

export async function requestJson<T>(path: string, options: RequestOptions = {}): Promise<T> {
  const response = await send(path, options);
  try {
    return (await response.json()) as T;
  } catch {
    throw new ApiError(response.status, 'bad_response', 'The gateway answered something that is not JSON.');
  }
}

export async function requestText(path: string, options: RequestOptions = {}): Promise<string> {
  const response = await send(path, options);
  return response.text();
}

// Builds a query string from the parameters that have a value: the API refuses unknown ones
// and treats an empty one as no filter, so empty ones are simply left out.
export function query(parameters: Record<string, string | number | undefined | null>): string {
  const search = new URLSearchParams();
  for (const [name, value] of Object.entries(parameters)) {
    if (value === undefined || value === null || value === '') continue;
    search.set(name, String(value));
  }
  const text = search.toString();
  return text === '' ? '' : `?${text}`;
}

export function errorMessage(error: unknown): string {
  if (error instanceof ApiError) return error.message;
  if (error instanceof Error) return error.message;
  return String(error);
}
