// The credential the console signs its requests with. It lives in this module's memory only:
// never in localStorage, sessionStorage or a cookie, so a reload or a closed tab forgets it and
// another script on the origin cannot read it back from storage.

let credential: string | null = null;

export function setCredential(value: string): void {
  credential = value;
}

export function getCredential(): string | null {
  return credential;
}

export function forgetCredential(): void {
  credential = null;
}
