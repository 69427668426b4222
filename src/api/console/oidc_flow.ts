// The browser half of the OIDC sign-in: discovery, the redirect to the identity provider and,
// on the way back, the code exchange. The PKCE verifier, state and nonce wait in
// sessionStorage only while the browser is away at the provider, and are removed as soon as
// the callback is read.
import { getConsoleConfig } from './endpoints';
import {
  buildAuthorizationUrl,
  credentialFromTokenResponse,
  discoveryUrl,
  parsePending,
  readCallback,
  redirectUriFor,
  sameIssuer,
  sameSecret,
  serializePending,
  tokenRequestBody,
  urlWithoutCallback,
} from './oidc';
import { codeChallengeS256, createCodeVerifier, randomUnreservedString } from './pkce';
import type { OidcProvider } from './types';

const kPendingKey = 'portcullis.oidc.pending';
// 32 characters of 64 letters: 192 bits, far beyond guessing within one sign-in.
const kStateLength = 32;

interface Discovery {
  issuer: string;
  authorization_endpoint: string;
  token_endpoint: string;
}

async function discover(issuer: string): Promise<Discovery> {
  const response = await fetch(discoveryUrl(issuer), { credentials: 'omit' });
  if (!response.ok) throw new Error(`The identity provider's discovery document answered ${response.status}.`);
  const document = (await response.json()) as Partial<Discovery>;
  if (typeof document.issuer !== 'string' || !sameIssuer(issuer, document.issuer)) {
    throw new Error(`The discovery document is not for ${issuer}.`);
  }
  if (typeof document.authorization_endpoint !== 'string' || typeof document.token_endpoint !== 'string') {
    throw new Error('The discovery document names no authorization or token endpoint.');
  }
  return document as Discovery;
}

export async function startOidcSignIn(provider: OidcProvider): Promise<void> {
  const discovery = await discover(provider.issuer);
  const verifier = createCodeVerifier();
  const state = randomUnreservedString(kStateLength);
  const nonce = randomUnreservedString(kStateLength);
  sessionStorage.setItem(kPendingKey, serializePending({ verifier, state, nonce, issuer: provider.issuer }));
  location.assign(
    buildAuthorizationUrl({
      authorizationEndpoint: discovery.authorization_endpoint,
      clientId: provider.client_id,
      redirectUri: redirectUriFor(location.origin),
      scopes: provider.scopes,
      state,
      nonce,
      codeChallenge: await codeChallengeS256(verifier),
    }),
  );
}

export type CallbackOutcome = { kind: 'none' } | { kind: 'signed-in'; credential: string } | { kind: 'error'; message: string };

// Handles the provider's redirect back, if this page load is one.
export async function finishOidcSignIn(): Promise<CallbackOutcome> {
  const callback = readCallback(location.search);
  if (callback.kind === 'none') return { kind: 'none' };
  const pending = parsePending(sessionStorage.getItem(kPendingKey));
  sessionStorage.removeItem(kPendingKey);
  history.replaceState(null, '', urlWithoutCallback(location.href));
  if (callback.kind === 'error') return { kind: 'error', message: `Sign-in refused: ${callback.message}` };
  if (pending === null) return { kind: 'error', message: 'No sign-in was in progress in this tab; start again.' };
  if (!sameSecret(pending.state, callback.state)) {
    return { kind: 'error', message: 'The sign-in answer does not match the request (state differs); start again.' };
  }
  try {
    // The provider's settings come from the gateway and the provider again, not from
    // sessionStorage, so that a tampered entry cannot send the code elsewhere.
    const config = await getConsoleConfig();
    const provider = config.oidc.find((candidate) => sameIssuer(candidate.issuer, pending.issuer));
    if (!provider) return { kind: 'error', message: `${pending.issuer} is no longer configured.` };
    // A provider that names itself on the way back must be the one the browser was sent to
    // (RFC 9207): a code from another provider is not exchanged here (mix-up attacks).
    if (callback.iss !== null && !sameIssuer(provider.issuer, callback.iss)) {
      return { kind: 'error', message: `The sign-in came back from ${callback.iss}, not ${provider.issuer}.` };
    }
    const discovery = await discover(provider.issuer);
    const response = await fetch(discovery.token_endpoint, {
      method: 'POST',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded', Accept: 'application/json' },
      body: tokenRequestBody({
        code: callback.code,
        redirectUri: redirectUriFor(location.origin),
        clientId: provider.client_id,
        verifier: pending.verifier,
      }),
      credentials: 'omit',
    });
    const document = (await response.json().catch(() => ({}))) as Record<string, unknown>;
    if (!response.ok) {
      const reason = typeof document.error === 'string' ? document.error : String(response.status);
      return { kind: 'error', message: `The identity provider refused the code: ${reason}` };
    }
    const picked = credentialFromTokenResponse(document, pending.nonce);
    if ('error' in picked) return { kind: 'error', message: picked.error };
    return { kind: 'signed-in', credential: picked.credential };
  } catch (error) {
    return { kind: 'error', message: error instanceof Error ? error.message : String(error) };
  }
}
