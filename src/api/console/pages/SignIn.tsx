// Sign-in: paste a gateway token or API key, or go through a configured OIDC provider.
import { useState } from 'preact/hooks';
import { errorMessage } from '../api';
import { Notice } from '../components/Notice';
import { getConsoleConfig } from '../endpoints';
import { useLoad } from '../hooks';
import { issuerHost } from '../oidc';
import { startOidcSignIn } from '../oidc_flow';
import type { OidcProvider } from '../types';

export interface SignInProps {
  message: string | null;
  busy: boolean;
  onCredential: (credential: string) => void;
}

export function SignIn({ message, busy, onCredential }: SignInProps) {
  const [credential, setCredential] = useState('');
  const [oidcError, setOidcError] = useState<string | null>(null);
  const config = useLoad((signal) => getConsoleConfig(signal), []);
  const providers = config.data?.oidc ?? [];

  const submit = (event: Event) => {
    event.preventDefault();
    const trimmed = credential.trim();
    if (trimmed === '') return;
    // The field is emptied at once: the credential lives in one place only, the store.
    setCredential('');
    onCredential(trimmed);
  };

  const signInWith = async (provider: OidcProvider) => {
    setOidcError(null);
    try {
      await startOidcSignIn(provider);
    } catch (error) {
      setOidcError(errorMessage(error));
    }
  };

  return (
    <main class="container sign-in">
      <article>
        <header>
          <h1>Portcullis</h1>
          <p>Sign in to the console of this gateway.</p>
        </header>
        {message && (
          <Notice kind="error" testId="sign-in-message">
            {message}
          </Notice>
        )}
        <form onSubmit={submit}>
          <label>
            Gateway token or API key
            <textarea
              data-testid="token"
              name="credential"
              rows={4}
              autocomplete="off"
              spellcheck={false}
              value={credential}
              onInput={(event) => setCredential(event.currentTarget.value)}
              placeholder="portcullis token issue --subject you --ttl 8h"
            />
          </label>
          <small>Kept in this tab's memory only: a reload signs you out.</small>
          <button type="submit" data-testid="sign-in" disabled={busy} aria-busy={busy}>
            Sign in
          </button>
        </form>
        {providers.length > 0 && (
          <footer>
            {providers.map((provider) => (
              <button
                key={provider.issuer}
                type="button"
                class="secondary"
                data-testid="sign-in-oidc"
                disabled={busy}
                onClick={() => void signInWith(provider)}
              >
                Sign in with {issuerHost(provider.issuer)}
              </button>
            ))}
            {oidcError && <Notice kind="error">{oidcError}</Notice>}
          </footer>
        )}
      </article>
    </main>
  );
}
