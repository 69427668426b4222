// The pure half of the OIDC sign-in (authorization code flow with PKCE): the URLs, the state
// kept across the redirect, and the checks on the way back. oidc_flow.ts does the I/O.

export interface PendingSignIn {
  verifier: string;
  state: string;
  nonce: string;
  issuer: string;
}

export interface AuthorizationRequest {
  authorizationEndpoint: string;
  clientId: string;
  redirectUri: string;
  scopes: string[];
  state: string;
  nonce: string;
  codeChallenge: string;
}

export type Callback =
  | { kind: 'none' }
  | { kind: 'error'; message: string }
  // `iss`: the authorization server's own name for itself, where it sends one (RFC 9207).
  | { kind: 'code'; code: string; state: string; iss: string | null };

// The parameters an authorization server may add to the redirect; all are removed from the
// address bar once the callback is handled, so that a reload does not replay the code.
const kCallbackParameters = ['code', 'state', 'session_state', 'iss', 'error', 'error_description', 'error_uri'];

export function withoutTrailingSlash(url: string): string {
  return url.replace(/\/+$/, '');
}

export function discoveryUrl(issuer: string): string {
  return `${withoutTrailingSlash(issuer)}/.well-known/openid-configuration`;
}

// The discovery document must name the issuer it was fetched for (OpenID Connect Discovery
// 1.0, section 4.3); a trailing slash is not a difference worth refusing a sign-in over.
export function sameIssuer(configured: string, discovered: string): boolean {
  return withoutTrailingSlash(configured) === withoutTrailingSlash(discovered);
}

export function issuerHost(issuer: string): string {
  try {
    return new URL(issuer).host;
  } catch {
    return issuer;
  }
}

export function redirectUriFor(origin: string): string {
  return `${origin}/`;
}

export function buildAuthorizationUrl(request: AuthorizationRequest): string {
  const url = new URL(request.authorizationEndpoint);
  const parameters: Record<string, string> = {
    response_type: 'code',
    client_id: request.clientId,
    redirect_uri: request.redirectUri,
    scope: request.scopes.join(' '),
    state: request.state,
    nonce: request.nonce,
    code_challenge: request.codeChallenge,
    code_challenge_method: 'S256',
  };
  // set() rather than a new query: an endpoint may carry parameters of its own (a tenant).
  for (const [name, value] of Object.entries(parameters)) url.searchParams.set(name, value);
  return url.toString();
}

export function readCallback(search: string): Callback {
  const parameters = new URLSearchParams(search);
  const error = parameters.get('error');
  if (error !== null) {
    const description = parameters.get('error_description');
    return { kind: 'error', message: description ? `${error}: ${description}` : error };
  }
  const code = parameters.get('code');
  const state = parameters.get('state');
  if (code !== null && state !== null) return { kind: 'code', code, state, iss: parameters.get('iss') };
  return { kind: 'none' };
}

export function hasCallbackParameters(search: string): boolean {
  const parameters = new URLSearchParams(search);
  return kCallbackParameters.some((name) => parameters.has(name));
}

// The address to put back in the bar after the callback: the same page without the
// authorization server's parameters.
export function urlWithoutCallback(href: string): string {
  const url = new URL(href);
  for (const name of kCallbackParameters) url.searchParams.delete(name);
  return url.pathname + url.search + url.hash;
}

// Compares in time independent of where the strings first differ, so that a forged state
// cannot be guessed a character at a time.
export function sameSecret(expected: string, actual: string): boolean {
  if (expected.length === 0 || expected.length !== actual.length) return false;
  let difference = 0;
  for (let index = 0; index < expected.length; index++) {
    difference |= expected.charCodeAt(index) ^ actual.charCodeAt(index);
  }
  return difference === 0;
}

export function serializePending(pending: PendingSignIn): string {
  return JSON.stringify(pending);
}

export function parsePending(text: string | null): PendingSignIn | null {
  if (text === null) return null;
  try {
    const value = JSON.parse(text) as Partial<PendingSignIn>;
    const fields = [value.verifier, value.state, value.nonce, value.issuer];
    if (fields.every((field) => typeof field === 'string' && field !== '')) return value as PendingSignIn;
  } catch {
    // Damaged: treated as no sign-in in progress.
  }
  return null;
}

export function tokenRequestBody(parameters: {
  code: string;
  redirectUri: string;
  clientId: string;
  verifier: string;
}): URLSearchParams {
  return new URLSearchParams({
    grant_type: 'authorization_code',
    code: parameters.code,
    redirect_uri: parameters.redirectUri,
    client_id: parameters.clientId,
    code_verifier: parameters.verifier,
  });
}

// The claims of a JWT, read without checking its signature: the gateway checks that. The
// console reads only the nonce, to refuse an ID token minted for another sign-in.
export function unverifiedClaims(jwt: string): Record<string, unknown> | null {
  const parts = jwt.split('.');
  if (parts.length !== 3) return null;
  try {
    const base64 = parts[1].replace(/-/g, '+').replace(/_/g, '/');
    const binary = atob(base64 + '='.repeat((4 - (base64.length % 4)) % 4));
    const bytes = Uint8Array.from(binary, (character) => character.charCodeAt(0));
    const claims: unknown = JSON.parse(new TextDecoder().decode(bytes));
    return typeof claims === 'object' && claims !== null ? (claims as Record<string, unknown>) : null;
  } catch {
    return null;
  }
}

// Picks the bearer credential from a token response: the ID token, which the gateway verifies
// against the issuer's keys. Never the access token instead: it carries no nonce, so nothing
// would tie it to this sign-in, and its audience is the provider's business, not the console's.
export function credentialFromTokenResponse(
  response: { id_token?: unknown; access_token?: unknown },
  nonce: string,
): { credential: string } | { error: string } {
  if (typeof response.id_token === 'string' && response.id_token !== '') {
    const claims = unverifiedClaims(response.id_token);
    if (claims === null) return { error: 'The identity provider sent an ID token that cannot be read.' };
    if (typeof claims.nonce !== 'string' || !sameSecret(nonce, claims.nonce)) {
      return { error: 'The ID token does not belong to this sign-in (its nonce differs).' };
    }
    return { credential: response.id_token };
  }
  return { error: 'The identity provider sent no ID token (is "openid" among the scopes?).' };
}
