import { createHash, webcrypto } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  base64UrlEncode,
  codeChallengeS256,
  createCodeVerifier,
  isValidCodeVerifier,
  kVerifierLength,
  randomUnreservedString,
} from '../pkce';

const crypto = (globalThis.crypto ?? webcrypto) as Crypto;

// The reference is node's own SHA-256 and base64url, independent of the code under test.
function referenceChallenge(verifier: string): string {
  return createHash('sha256').update(verifier, 'ascii').digest('base64url');
}

describe('PKCE', () => {
  it('makes verifiers of the chosen length over the RFC 7636 alphabet', () => {
    for (let round = 0; round < 50; round++) {
      const verifier = createCodeVerifier(crypto);
      expect(verifier).toHaveLength(kVerifierLength);
      expect(verifier).toMatch(/^[A-Za-z0-9\-._~]+$/);
      expect(isValidCodeVerifier(verifier)).toBe(true);
    }
    expect(kVerifierLength).toBeGreaterThanOrEqual(43);
    expect(kVerifierLength).toBeLessThanOrEqual(128);
  });

  it('makes a different verifier every time', () => {
    const verifiers = new Set(Array.from({ length: 100 }, () => createCodeVerifier(crypto)));
    expect(verifiers.size).toBe(100);
  });

  it('uses every letter of the alphabet', () => {
    const letters = new Set(randomUnreservedString(4096, crypto));
    expect(letters.size).toBe(64);
  });

  it('checks verifier lengths and characters', () => {
    expect(isValidCodeVerifier('a'.repeat(42))).toBe(false);
    expect(isValidCodeVerifier('a'.repeat(43))).toBe(true);
    expect(isValidCodeVerifier('a'.repeat(128))).toBe(true);
    expect(isValidCodeVerifier('a'.repeat(129))).toBe(false);
    expect(isValidCodeVerifier(`${'a'.repeat(43)}+`)).toBe(false);
    expect(isValidCodeVerifier(`${'a'.repeat(40)}-._~`)).toBe(true);
  });

  it('computes the S256 challenge as SHA-256 then base64url without padding', async () => {
    const verifiers = ['a'.repeat(43), '0123456789-._~ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghij', createCodeVerifier(crypto)];
    for (const verifier of verifiers) {
      const challenge = await codeChallengeS256(verifier, crypto);
      expect(challenge).toBe(referenceChallenge(verifier));
      expect(challenge).toHaveLength(43);
      expect(challenge).toMatch(/^[A-Za-z0-9_-]+$/);
    }
  });

  it('encodes base64url with the URL-safe letters and no padding', () => {
    expect(base64UrlEncode(new Uint8Array([0xfb, 0xff]))).toBe('-_8');
    expect(base64UrlEncode(new Uint8Array([]))).toBe('');
    const bytes = new Uint8Array(Array.from({ length: 256 }, (_, index) => index));
    expect(base64UrlEncode(bytes)).toBe(Buffer.from(bytes).toString('base64url'));
  });
});
