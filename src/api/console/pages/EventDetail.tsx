// One journal record with every field, and the masked result rows kept for it.
import type { ComponentChildren } from 'preact';
import { Notice } from '../components/Notice';
import { ResultsTable } from '../components/ResultsTable';
import { getAuditEvent } from '../endpoints';
import { formatBytes, formatDurationUs, formatTime } from '../format';
import { useLoad } from '../hooks';
import type { AuditEvent } from '../types';

function Field({ label, children }: { label: string; children: ComponentChildren }) {
  return (
    <>
      <dt>{label}</dt>
      <dd>{children}</dd>
    </>
  );
}

function present(value: unknown): boolean {
  return value !== undefined && value !== null && value !== '';
}

function EventFields({ event }: { event: AuditEvent }) {
  return (
    <dl class="facts wide">
      <Field label="Seq">{event.seq}</Field>
      <Field label="Time">{formatTime(event.time)} UTC ({event.time})</Field>
      <Field label="Event">{event.event}</Field>
      {present(event.verdict) && (
        <Field label="Verdict">
          <span class={`verdict verdict-${event.verdict}`}>{event.verdict}</span>
        </Field>
      )}
      {present(event.rule) && <Field label="Rule">{event.rule}</Field>}
      {present(event.reviewer) && <Field label="Reviewer">{event.reviewer}</Field>}
      {present(event.statement) && <Field label="Review / statement">{event.statement}</Field>}
      {present(event.subject) && (
        <Field label="Subject">
          {event.subject}
          {event.subject_kind && ` (${event.subject_kind})`}
          {event.auth && `, by ${event.auth}`}
        </Field>
      )}
      {event.groups && event.groups.length > 0 && <Field label="Groups">{event.groups.join(', ')}</Field>}
      {present(event.credential) && (
        <Field label="Credential">
          <code>{event.credential}</code>
        </Field>
      )}
      {present(event.connection) && <Field label="Connection">{event.connection}</Field>}
      {present(event.protocol) && <Field label="Protocol">{event.protocol}</Field>}
      {present(event.session) && (
        <Field label="Session">
          <code>{event.session}</code>
          {event.protocol === 'ssh' && (
            <>
              {' '}
              <a href={`#/replay/${encodeURIComponent(event.session ?? '')}`}>replay</a>
            </>
          )}
        </Field>
      )}
      {present(event.client_addr) && <Field label="Client">{event.client_addr}</Field>}
      {present(event.instance) && <Field label="Instance">{event.instance}</Field>}
      {event.kinds && event.kinds.length > 0 && <Field label="Kinds">{event.kinds.join(', ')}</Field>}
      {event.classes && event.classes.length > 0 && <Field label="Classes">{event.classes.join(', ')}</Field>}
      {event.params && (
        <Field label="Parameters">
          <ol class="params">
            {event.params.map((value, index) => (
              <li key={index}>{value === null ? <em class="null">NULL</em> : <code>{value}</code>}</li>
            ))}
          </ol>
        </Field>
      )}
      {present(event.rows) && <Field label="Rows">{event.rows}</Field>}
      {(present(event.bytes_in) || present(event.bytes_out)) && (
        <Field label="Bytes in / out">
          {formatBytes(event.bytes_in) || '—'} / {formatBytes(event.bytes_out) || '—'}
        </Field>
      )}
      {event.masked && Object.keys(event.masked).length > 0 && (
        <Field label="Masked values">
          {Object.entries(event.masked)
            .map(([detector, count]) => `${detector}: ${count}`)
            .join(', ')}
        </Field>
      )}
      {present(event.duration_us) && <Field label="Duration">{formatDurationUs(event.duration_us)}</Field>}
      {present(event.error) && (
        <Field label="Error">
          <span class="error-text">{event.error}</span>
        </Field>
      )}
      {present(event.fingerprint) && (
        <Field label="Fingerprint">
          <code>{event.fingerprint}</code>
        </Field>
      )}
      {present(event.id) && (
        <Field label="Id">
          <code>{event.id}</code>
        </Field>
      )}
      {present(event.result_seq) && (
        <Field label="Result record">
          <a href={`#/journal/${event.result_cursor ?? event.result_seq}`}>{event.result_seq}</a>
        </Field>
      )}
      {present(event.results_sha256) && (
        <Field label="Results SHA-256">
          <code class="hash">{event.results_sha256}</code>
        </Field>
      )}
      {present(event.hash) && (
        <Field label="Hash">
          <code class="hash">{event.hash}</code>
        </Field>
      )}
      {present(event.prev_hash) && (
        <Field label="Previous hash">
          <code class="hash">{event.prev_hash}</code>
        </Field>
      )}
    </dl>
  );
}

export function EventDetail({ seq }: { seq: string }) {
  const detail = useLoad((signal) => getAuditEvent(seq, signal), [seq]);

  return (
    <section>
      <p>
        <a href="#/journal">← Journal</a>
      </p>
      <h2>Journal record {seq}</h2>
      {detail.error && <Notice kind="error">{detail.error}</Notice>}
      {detail.loading && detail.data === undefined && <p aria-busy="true">Loading…</p>}
      {detail.data && (
        <article data-testid="event-detail">
          {detail.data.event.command !== undefined && (
            <pre class="command">
              <code>{detail.data.event.command}</code>
            </pre>
          )}
          <EventFields event={detail.data.event} />
          {detail.data.results && (
            <>
              <h3>Result rows kept (masked)</h3>
              <ResultsTable results={detail.data.results} />
            </>
          )}
        </article>
      )}
    </section>
  );
}
