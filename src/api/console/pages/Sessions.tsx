// Live sessions on every instance, for admins: who is connected where, and the two incident
// controls: end one session now, or revoke everything a subject holds.
import { useEffect, useState } from 'preact/hooks';
import { errorMessage } from '../api';
import { Notice } from '../components/Notice';
import { killSession, listSessions, revokeSubject } from '../endpoints';
import { formatAge, formatBytes, formatTime } from '../format';
import { useLoad, useNow } from '../hooks';
import type { LiveSession } from '../types';

// Often enough that a killed session visibly goes, rarely enough to be no load on the API.
const kRefreshMs = 5000;
const kProtocols = ['postgres', 'mysql', 'ssh', 'kubernetes'];

interface RowProps {
  session: LiveSession;
  nowMs: number;
  onResult: (ok: boolean, text: string) => void;
}

function SessionRow({ session, nowMs, onResult }: RowProps) {
  const [revoking, setRevoking] = useState(false);
  const [reason, setReason] = useState('');
  const [busy, setBusy] = useState(false);

  const kill = async () => {
    setBusy(true);
    try {
      await killSession(session.id);
      onResult(true, `Session ${session.id} of ${session.subject} ended.`);
    } catch (error) {
      onResult(false, `Session ${session.id}: ${errorMessage(error)}`);
    } finally {
      setBusy(false);
    }
  };

  const revoke = async (event: Event) => {
    event.preventDefault();
    setBusy(true);
    try {
      const result = await revokeSubject(session.subject, reason.trim());
      onResult(
        true,
        `Every credential of ${result.subject} issued up to ${formatTime(result.revoked_at)} UTC is revoked; ${result.sessions_ended} session(s) ended.`,
      );
      setRevoking(false);
      setReason('');
    } catch (error) {
      onResult(false, `Revoking ${session.subject}: ${errorMessage(error)}`);
    } finally {
      setBusy(false);
    }
  };

  return (
    <>
      <tr data-testid={`session-${session.id}`}>
        <td>
          <code>{session.id}</code>
          {session.protocol === 'ssh' && (
            <>
              <br />
              <small>
                <a href={`#/replay/${encodeURIComponent(session.id)}`} data-testid={`replay-${session.id}`}>
                  Replay
                </a>
              </small>
            </>
          )}
        </td>
        <td>
          {session.subject}
          <br />
          <small class="muted">{session.client_addr}</small>
        </td>
        <td>
          {session.connection}
          <br />
          <small class="muted">{session.protocol}</small>
        </td>
        <td class="nowrap" title={`${formatTime(session.started)} UTC`}>
          {/* The time of day is enough here: the age under it says which day. */}
          {formatTime(session.started).slice(11)}
          <br />
          <small>{formatAge(session.started, nowMs)} ago</small>
        </td>
        <td class="number">{session.commands}</td>
        <td class="number">
          {formatBytes(session.bytes_in)} / {formatBytes(session.bytes_out)}
        </td>
        <td class="nowrap">{session.held_review ? <a href="#/reviews">{session.held_review}</a> : '—'}</td>
        <td class="actions">
          <button type="button" class="small" data-testid={`kill-${session.id}`} disabled={busy} onClick={() => void kill()}>
            Kill
          </button>
          <button
            type="button"
            class="small secondary"
            data-testid={`revoke-${session.id}`}
            aria-expanded={revoking}
            onClick={() => setRevoking(!revoking)}
          >
            Revoke…
          </button>
        </td>
      </tr>
      {revoking && (
        <tr class="revoke-row">
          <td colSpan={8}>
            <form class="inline-form" onSubmit={(event) => void revoke(event)}>
              <label>
                Reason for revoking every credential of <strong>{session.subject}</strong>
                <input
                  data-testid={`revoke-reason-${session.id}`}
                  required
                  value={reason}
                  onInput={(event) => setReason(event.currentTarget.value)}
                  placeholder="INC-4711: laptop stolen"
                />
              </label>
              <button type="submit" class="small contrast" data-testid={`confirm-revoke-${session.id}`} disabled={busy}>
                Revoke {session.subject}
              </button>
            </form>
          </td>
        </tr>
      )}
    </>
  );
}

export function Sessions() {
  const sessions = useLoad((signal) => listSessions(signal), []);
  const nowMs = useNow();
  const [protocol, setProtocol] = useState('');
  const [message, setMessage] = useState<{ ok: boolean; text: string } | null>(null);
  const { reload } = sessions;

  useEffect(() => {
    const timer = setInterval(reload, kRefreshMs);
    return () => clearInterval(timer);
  }, [reload]);

  const all = sessions.data ?? [];
  const shown = protocol === '' ? all : all.filter((session) => session.protocol === protocol);
  const countOf = (name: string) => all.filter((session) => session.protocol === name).length;

  const onResult = (ok: boolean, text: string) => {
    setMessage({ ok, text });
    reload();
  };

  return (
    <section>
      <hgroup class="page-title">
        <h2>Live sessions</h2>
        <p>Refreshed every {kRefreshMs / 1000} seconds.</p>
      </hgroup>
      <div class="toolbar">
        <label>
          Protocol
          <select data-testid="filter-protocol" value={protocol} onChange={(event) => setProtocol(event.currentTarget.value)}>
            <option value="">all ({all.length})</option>
            {kProtocols.map((name) => (
              <option key={name} value={name}>
                {name} ({countOf(name)})
              </option>
            ))}
          </select>
        </label>
        <button type="button" class="secondary" data-testid="refresh" onClick={reload} aria-busy={sessions.loading}>
          Refresh
        </button>
      </div>
      {message && (
        <Notice kind={message.ok ? 'success' : 'error'} testId="session-message">
          {message.text}
        </Notice>
      )}
      {sessions.error && <Notice kind="error">{sessions.error}</Notice>}
      {sessions.data === undefined ? (
        !sessions.error && <p aria-busy="true">Loading sessions…</p>
      ) : shown.length === 0 ? (
        <p class="empty">No live sessions{protocol ? ` over ${protocol}` : ''}.</p>
      ) : (
        <div class="overflow-auto">
          <table class="striped">
            <thead>
              <tr>
                <th scope="col">Id</th>
                <th scope="col">Subject, client</th>
                <th scope="col">Connection, protocol</th>
                <th scope="col">Started (UTC)</th>
                <th scope="col">Commands</th>
                <th scope="col">In / out</th>
                <th scope="col">Held by review</th>
                <th scope="col">Actions</th>
              </tr>
            </thead>
            <tbody>
              {shown.map((session) => (
                <SessionRow key={session.id} session={session} nowMs={nowMs} onResult={onResult} />
              ))}
            </tbody>
          </table>
        </div>
      )}
    </section>
  );
}
