// Replays the recording of an SSH session's interactive shell, one part (one shell of the
// connection) at a time.
import { useEffect, useRef, useState } from 'preact/hooks';
import { ApiError, errorMessage } from '../api';
import { Notice } from '../components/Notice';
import { getRecording } from '../endpoints';
import type { PlayerHandle } from '../player';
import { canCompileWebAssembly } from '../webassembly';

const kNoWebAssembly =
  "This browser may not run the player's WebAssembly here: the gateway's Content-Security-Policy " +
  "needs 'wasm-unsafe-eval' in script-src for replay.";

type Loaded = { kind: 'loading' } | { kind: 'none' } | { kind: 'error'; message: string } | { kind: 'playing' };

// `sessionsVisible`: whether the caller may open the Sessions page (admins), where a replay is
// started from; auditors come from the journal and go back there.
export function Replay({ session, sessionsVisible }: { session: string; sessionsVisible: boolean }) {
  const [part, setPart] = useState(1);
  const [loaded, setLoaded] = useState<Loaded>({ kind: 'loading' });
  const container = useRef<HTMLDivElement>(null);

  useEffect(() => {
    const controller = new AbortController();
    let player: PlayerHandle | null = null;
    setLoaded({ kind: 'loading' });
    (async () => {
      try {
        const recording = await getRecording(session, part, controller.signal);
        if (!canCompileWebAssembly()) {
          setLoaded({ kind: 'error', message: kNoWebAssembly });
          return;
        }
        const { mountPlayer } = await import('../player');
        if (controller.signal.aborted || !container.current) return;
        player = mountPlayer(recording, container.current);
        setLoaded({ kind: 'playing' });
      } catch (failure) {
        if (controller.signal.aborted) return;
        if (failure instanceof ApiError && failure.status === 404) setLoaded({ kind: 'none' });
        else setLoaded({ kind: 'error', message: errorMessage(failure) });
      }
    })();
    return () => {
      controller.abort();
      player?.dispose();
    };
  }, [session, part]);

  return (
    <section>
      <p>
        {sessionsVisible ? <a href="#/sessions">← Sessions</a> : <a href="#/journal">← Journal</a>}
      </p>
      <hgroup class="page-title">
        <h2>Replay</h2>
        <p>
          Session <code>{session}</code>, shell {part}. What the person saw, masked as they saw it.
        </p>
      </hgroup>
      {loaded.kind === 'loading' && <p aria-busy="true">Loading the recording…</p>}
      {loaded.kind === 'none' && (
        <p class="empty">{part === 1 ? 'No recording for this session.' : `No recording for shell ${part} of this session.`}</p>
      )}
      {loaded.kind === 'error' && <Notice kind="error">{loaded.message}</Notice>}
      {/* The player owns this element's children; Preact never renders into it. */}
      <div data-testid="replay" class="replay" ref={container} hidden={loaded.kind !== 'playing'} />
      <div class="toolbar">
        <button type="button" class="secondary" disabled={part === 1} onClick={() => setPart(part - 1)}>
          Previous part
        </button>
        <button type="button" class="secondary" data-testid="next-part" onClick={() => setPart(part + 1)}>
          Next part
        </button>
      </div>
    </section>
  );
}
