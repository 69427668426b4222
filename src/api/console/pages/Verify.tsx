// Checks the whole journal (hash chain, kept rows, signed checkpoints) through the API.
import { Notice } from '../components/Notice';
import { verifyAudit } from '../endpoints';
import { useLoad } from '../hooks';

export function Verify() {
  const report = useLoad((signal) => verifyAudit(signal), []);
  const data = report.data;

  return (
    <section>
      <hgroup class="page-title">
        <h2>Journal verification</h2>
        <p>Every record, its kept rows and the signed checkpoints, checked with the gateway's public key.</p>
      </hgroup>
      <button type="button" data-testid="verify" onClick={report.reload} disabled={report.loading} aria-busy={report.loading}>
        {report.loading ? 'Checking…' : 'Check again'}
      </button>
      {report.error && <Notice kind="error">{report.error}</Notice>}
      {data && (
        <article class={data.ok ? 'verify verify-ok' : 'verify verify-failed'}>
          <header>
            <strong data-testid="verify-status">{data.ok ? 'Journal verified' : 'Journal check FAILED'}</strong>
          </header>
          <dl class="facts">
            <dt>Records checked</dt>
            <dd>{data.records_checked ?? '—'}</dd>
            <dt>Checkpoints checked</dt>
            <dd>
              {data.checkpoints_checked ?? '—'}
              {data.external_checkpoints_checked !== undefined && ` (${data.external_checkpoints_checked} external)`}
            </dd>
            <dt>Last seq</dt>
            <dd>{data.last_seq ?? '—'}</dd>
            {data.last_checkpoint_seq !== undefined && (
              <>
                <dt>Last checkpoint at seq</dt>
                <dd>{data.last_checkpoint_seq}</dd>
              </>
            )}
            <dt>Records after the last checkpoint</dt>
            <dd>{data.unanchored_records ?? '—'}</dd>
            {!data.ok && (
              <>
                <dt>First bad seq</dt>
                <dd>
                  {/* A seq within one instance's chain, not a cursor: no link to a detail page,
                      which is found by cursor among every instance's records. */}
                  {data.first_bad_seq ?? '—'}
                </dd>
                <dt>Message</dt>
                <dd class="error-text">{data.message}</dd>
              </>
            )}
          </dl>
        </article>
      )}
    </section>
  );
}
