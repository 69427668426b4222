// One typed function per REST API call the console makes, so that pages never spell a path.
import { query, requestJson, requestText } from './api';
import type {
  AuditEvent,
  ConsoleConfig,
  EventDetail,
  LiveSession,
  Me,
  Review,
  RevocationResult,
  VerifyReport,
} from './types';

export const getConsoleConfig = (signal?: AbortSignal) =>
  requestJson<ConsoleConfig>('/api/v1/console/config', { anonymous: true, signal });

export const getMe = (signal?: AbortSignal) => requestJson<Me>('/api/v1/me', { signal });

export const listReviews = async (status?: string, signal?: AbortSignal) =>
  (await requestJson<{ reviews: Review[] }>(`/api/v1/reviews${query({ status })}`, { signal })).reviews;

export const decideReview = (id: string, decision: 'approve' | 'reject', comment: string) =>
  requestJson<Review>(`/api/v1/reviews/${encodeURIComponent(id)}/${decision}`, {
    method: 'POST',
    body: comment.trim() === '' ? {} : { comment },
  });

export const requestAccess = (connection: string, duration: string, reason: string) =>
  requestJson<Review>('/api/v1/access-requests', {
    method: 'POST',
    body: { connection, duration, reason },
  });

export const listSessions = async (signal?: AbortSignal) =>
  (await requestJson<{ sessions: LiveSession[] }>('/api/v1/sessions', { signal })).sessions;

export const killSession = (id: string) =>
  requestJson<{ id: string; killed: boolean }>(`/api/v1/sessions/${encodeURIComponent(id)}/kill`, {
    method: 'POST',
  });

export const revokeSubject = (subject: string, reason: string) =>
  requestJson<RevocationResult>('/api/v1/revocations', { method: 'POST', body: { subject, reason } });

export interface AuditFilters {
  subject?: string;
  connection?: string;
  session?: string;
  verdict?: string;
  event?: string;
  since?: string;
  contains?: string;
  limit?: number;
  before?: string;
}

export const searchAudit = async (filters: AuditFilters, signal?: AbortSignal) =>
  (await requestJson<{ events: AuditEvent[] }>(`/api/v1/audit${query({ ...filters })}`, { signal })).events;

export const getAuditEvent = (seq: string, signal?: AbortSignal) =>
  requestJson<EventDetail>(`/api/v1/audit/events/${encodeURIComponent(seq)}`, { signal });

export const verifyAudit = (signal?: AbortSignal) =>
  requestJson<VerifyReport>('/api/v1/audit/verify', { signal });

export const getRecording = (session: string, part: number, signal?: AbortSignal) =>
  requestText(`/api/v1/sessions/${encodeURIComponent(session)}/recording${query({ part })}`, {
    signal,
    accept: 'application/x-asciicast, text/plain',
  });
