// Proof Key for Code Exchange (RFC 7636) with the S256 method, on WebCrypto: the verifier and
// the random state and nonce of the OIDC sign-in.

// RFC 7636 section 4.1: a verifier is 43 to 128 characters of [A-Za-z0-9-._~]. 64 random
// characters from a 64-letter alphabet give 384 bits, well over the 256 the RFC recommends.
export const kVerifierLength = 64;
const kUnreservedAlphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';

export function base64UrlEncode(bytes: Uint8Array): string {
  let binary = '';
  for (const byte of bytes) binary += String.fromCharCode(byte);
  return btoa(binary).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

// A random string over the unreserved alphabet. The alphabet has 64 letters, so taking the
// low six bits of each random byte picks every letter with the same chance.
export function randomUnreservedString(length: number, crypto: Crypto = globalThis.crypto): string {
  const bytes = crypto.getRandomValues(new Uint8Array(length));
  let text = '';
  for (const byte of bytes) text += kUnreservedAlphabet[byte & 63];
  return text;
}

export function createCodeVerifier(crypto: Crypto = globalThis.crypto): string {
  return randomUnreservedString(kVerifierLength, crypto);
}

export function isValidCodeVerifier(verifier: string): boolean {
  return /^[A-Za-z0-9\-._~]{43,128}$/.test(verifier);
}

// code_challenge = BASE64URL(SHA-256(ASCII(code_verifier))), RFC 7636 section 4.2.
export async function codeChallengeS256(verifier: string, crypto: Crypto = globalThis.crypto): Promise<string> {
  const digest = await crypto.subtle.digest('SHA-256', new TextEncoder().encode(verifier));
  return base64UrlEncode(new Uint8Array(digest));
}
