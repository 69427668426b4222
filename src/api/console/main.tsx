// The console application: sign-in, then the pages the caller's roles allow, on hash routes.
import '@picocss/pico/css/pico.min.css';
import './styles.css';
import { render } from 'preact';
import { useCallback, useEffect, useState } from 'preact/hooks';
import { ApiError, errorMessage, setUnauthorizedHandler } from './api';
import { forgetCredential, setCredential } from './auth';
import { Nav } from './components/Nav';
import { Notice } from './components/Notice';
import { getMe } from './endpoints';
import { hasCallbackParameters } from './oidc';
import { finishOidcSignIn } from './oidc_flow';
import { Access } from './pages/Access';
import { EventDetail } from './pages/EventDetail';
import { Journal, kInitialJournalState, type JournalState } from './pages/Journal';
import { Overview } from './pages/Overview';
import { Replay } from './pages/Replay';
import { Reviews } from './pages/Reviews';
import { Sessions } from './pages/Sessions';
import { SignIn } from './pages/SignIn';
import { Verify } from './pages/Verify';
import { mayOpen, parseRoute, type Route } from './routes';
import type { Me } from './types';

function useRoute(): Route {
  const [route, setRoute] = useState(() => parseRoute(location.hash));
  useEffect(() => {
    const onChange = () => setRoute(parseRoute(location.hash));
    window.addEventListener('hashchange', onChange);
    return () => window.removeEventListener('hashchange', onChange);
  }, []);
  return route;
}

function Page({ route, me, journal, setJournal }: {
  route: Route;
  me: Me;
  journal: JournalState;
  setJournal: (next: JournalState) => void;
}) {
  if (!mayOpen(route.page, me.roles)) {
    return (
      <Notice kind="info">
        This page is for the gateway's {route.page === 'sessions' ? 'admins' : 'admins and auditors'}; your groups do
        not include theirs.
      </Notice>
    );
  }
  switch (route.page) {
    case 'reviews':
      return <Reviews />;
    case 'access':
      return <Access subject={me.subject} />;
    case 'sessions':
      return <Sessions />;
    case 'journal':
      return <Journal state={journal} setState={setJournal} />;
    case 'event':
      return <EventDetail seq={route.parameter ?? ''} />;
    case 'verify':
      return <Verify />;
    case 'overview':
      return <Overview />;
    case 'replay':
      return <Replay session={route.parameter ?? ''} sessionsVisible={mayOpen('sessions', me.roles)} />;
  }
}

function App() {
  const [me, setMe] = useState<Me | null>(null);
  const [message, setMessage] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const [journal, setJournal] = useState<JournalState>(kInitialJournalState);
  const route = useRoute();

  const signOut = useCallback((reason: string | null) => {
    forgetCredential();
    setMe(null);
    setJournal(kInitialJournalState);
    setMessage(reason);
  }, []);

  const signInWith = useCallback(async (credential: string) => {
    setBusy(true);
    setMessage(null);
    setCredential(credential);
    try {
      setMe(await getMe());
    } catch (error) {
      forgetCredential();
      setMessage(
        error instanceof ApiError && error.status === 401
          ? `The gateway refused this credential: ${error.message}`
          : `Could not sign in: ${errorMessage(error)}`,
      );
    } finally {
      setBusy(false);
    }
  }, []);

  useEffect(() => {
    setUnauthorizedHandler((error) => signOut(`You were signed out: ${error.message}`));
    if (hasCallbackParameters(location.search)) {
      setBusy(true);
      void finishOidcSignIn().then((outcome) => {
        setBusy(false);
        if (outcome.kind === 'signed-in') void signInWith(outcome.credential);
        else if (outcome.kind === 'error') setMessage(outcome.message);
      });
    }
    return () => setUnauthorizedHandler(null);
  }, [signOut, signInWith]);

  if (me === null) return <SignIn message={message} busy={busy} onCredential={(credential) => void signInWith(credential)} />;

  return (
    <>
      <header>
        <Nav me={me} current={route.page} onSignOut={() => signOut(null)} />
      </header>
      <main class="container">
        <Page key={`${route.page}/${route.parameter ?? ''}`} route={route} me={me} journal={journal} setJournal={setJournal} />
      </main>
    </>
  );
}

const root = document.getElementById('app');
if (root) render(<App />, root);
