// Clicks through the built console in headless Chromium against dev/mock_gateway.mjs, under
// the gateway's Content-Security-Policy, and fails on a broken page or on any error in the
// browser's log (a policy violation shows there). Not part of `npm test`: it needs Chromium.
//
//   npm run build && node --experimental-websocket dev/browser_check.mjs   # Node 20; 22+ needs no flag
//
// CHROMIUM names the browser (default: chromium). SHOTS=DIR saves a screenshot of each page;
// DARK=1 takes them in the dark scheme. MOCK_SCRIPT_SRC="'self' 'wasm-unsafe-eval'" checks
// that the replay player plays; without it, that the replay page explains what it needs.
import { spawn } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const kMockPort = 4179;
const kDebugPort = 9339;
const kBase = `http://127.0.0.1:${kMockPort}/`;
const wasmAllowed = (process.env.MOCK_SCRIPT_SRC ?? '').includes('wasm-unsafe-eval');
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

const mock = spawn(process.execPath, [fileURLToPath(new URL('mock_gateway.mjs', import.meta.url)), String(kMockPort)], {
  stdio: 'ignore',
});
const browser = spawn(
  process.env.CHROMIUM ?? 'chromium',
  ['--headless=new', '--no-sandbox', '--disable-gpu', `--remote-debugging-port=${kDebugPort}`, 'about:blank'],
  { stdio: 'ignore' },
);
const stop = (code) => {
  browser.kill();
  mock.kill();
  process.exit(code);
};

let failures = 0;
function check(what, ok, detail = '') {
  console.log(`${ok ? 'ok  ' : 'FAIL'} ${what}${detail ? `: ${detail}` : ''}`);
  if (!ok) failures++;
}

let targets = [];
for (let attempt = 0; attempt < 50 && targets.length === 0; attempt++) {
  await sleep(200);
  try {
    targets = (await (await fetch(`http://127.0.0.1:${kDebugPort}/json/list`)).json()).filter((t) => t.type === 'page');
  } catch {
    // Not listening yet.
  }
}
if (targets.length === 0) {
  console.log('FAIL Chromium did not start');
  stop(2);
}

const socket = new WebSocket(targets[0].webSocketDebuggerUrl);
await new Promise((resolve) => socket.addEventListener('open', resolve));
let nextId = 0;
const waiting = new Map();
const logged = [];
socket.addEventListener('message', (message) => {
  const data = JSON.parse(message.data);
  if (data.id && waiting.has(data.id)) {
    waiting.get(data.id)(data);
    waiting.delete(data.id);
  } else if (data.method === 'Runtime.exceptionThrown') {
    const details = data.params.exceptionDetails;
    logged.push(`exception: ${details.exception?.description ?? details.text}`);
  } else if (data.method === 'Runtime.consoleAPICalled' && data.params.type === 'error') {
    logged.push(`console.error: ${data.params.args.map((a) => a.value ?? a.description).join(' ')}`);
  } else if (data.method === 'Log.entryAdded' && data.params.entry.level === 'error') {
    const entry = data.params.entry;
    // The deliberate 401 (a wrong credential) and 404 (a missing recording part) are expected.
    if (entry.source === 'network' && / (401|404) /.test(entry.text)) return;
    logged.push(`${entry.source}: ${entry.text}`);
  }
});
const send = (method, params = {}) =>
  new Promise((resolve) => {
    const id = ++nextId;
    waiting.set(id, resolve);
    socket.send(JSON.stringify({ id, method, params }));
  });
const evaluate = async (expression) => (await send('Runtime.evaluate', { expression, awaitPromise: true, returnByValue: true })).result?.result?.value;
const byTestId = (id) => `document.querySelector('[data-testid="${id}"]')`;
const textOf = (id) => evaluate(`${byTestId(id)}?.textContent ?? null`);
const count = (selector) => evaluate(`document.querySelectorAll('${selector}').length`);
const click = (id) => evaluate(`${byTestId(id)}?.click()`);
const type = (id, value) =>
  evaluate(`(() => { const e = ${byTestId(id)}; e.value = ${JSON.stringify(value)}; e.dispatchEvent(new Event('input', { bubbles: true })); })()`);
const open = async (hash) => {
  await evaluate(`location.hash = '${hash}'`);
  await sleep(700);
};
const screenshot = async (name) => {
  if (!process.env.SHOTS) return;
  mkdirSync(process.env.SHOTS, { recursive: true });
  const shot = await send('Page.captureScreenshot', { format: 'png' });
  writeFileSync(`${process.env.SHOTS}/${name}.png`, Buffer.from(shot.result.data, 'base64'));
};

await send('Runtime.enable');
await send('Log.enable');
await send('Page.enable');
await send('Emulation.setDeviceMetricsOverride', { width: 1280, height: 900, deviceScaleFactor: 1, mobile: false });
if (process.env.DARK) await send('Emulation.setEmulatedMedia', { features: [{ name: 'prefers-color-scheme', value: 'dark' }] });
await send('Page.navigate', { url: kBase });
await sleep(1000);

check('no inline script or style in the page', (await count('script:not([src]), style')) === 0);
check('one OIDC button', (await count('[data-testid="sign-in-oidc"]')) === 1);
await screenshot('sign-in');
await type('token', 'not-a-token');
await click('sign-in');
await sleep(500);
check('a refused credential is explained', /refused/.test((await textOf('sign-in-message')) ?? ''));

await type('token', 'admin');
await click('sign-in');
await sleep(1200);
check('signed in', (await textOf('whoami')) === 'ann');
check('the review stream is live', (await textOf('live-status')) === 'live');
check('every page in the nav for an admin', (await count('nav a[data-testid^="nav-"]')) === 6);
check('approve buttons on reviews the admin may decide', (await count('[data-testid^="approve-"]')) === 2);
await screenshot('reviews');
await type('comment-r-2mz8c1d0e9fq', 'checked the plan');
await click('approve-r-2mz8c1d0e9fq');
await sleep(800);
check('the vote is reported', /Approved r-2mz8c1d0e9fq/.test((await textOf('review-message')) ?? ''));
check('the decided review leaves the list', (await count('[data-testid="review-r-2mz8c1d0e9fq"]')) === 0);

await open('#/access');
await type('access-connection', 'prod-db');
await type('access-reason', 'INC-4711');
await click('access-submit');
await sleep(800);
check('an access request is created', /created/.test((await textOf('access-result')) ?? ''));
await screenshot('access');

await open('#/sessions');
check('live sessions listed', (await count('tr[data-testid^="session-"]')) === 4);
await screenshot('sessions');
await click('kill-k8k8k8k8k8k8');
await sleep(700);
check('a kill is reported', /ended/.test((await textOf('session-message')) ?? ''));
await click('revoke-9a8b7c6d5e4f');
await sleep(200);
await type('revoke-reason-9a8b7c6d5e4f', 'INC-4711');
await click('confirm-revoke-9a8b7c6d5e4f');
await sleep(700);
check('a revocation is reported', /revoked/.test((await textOf('session-message')) ?? ''));

await open('#/journal');
check('the newest 50 statements, newest first', (await count('tr[data-testid^="event-"]')) === 50 && (await count('[data-testid="event-400"]')) === 1);
await screenshot('journal');
await click('older');
await sleep(700);
check('older records appended', (await count('tr[data-testid^="event-"]')) === 100 && (await count('[data-testid="event-301"]')) === 1);
await evaluate(`${byTestId('event-398')}.click()`);
await sleep(700);
check('a row opens its detail', (await evaluate('location.hash')) === '#/journal/398' && (await count('[data-testid="event-detail"]')) === 1);
check('the kept rows are shown', (await count('[data-testid="event-results"]')) === 1);
await screenshot('event');
await evaluate('history.back()');
await sleep(600);
check('back keeps the search', (await count('tr[data-testid^="event-"]')) === 100);

await open('#/verify');
check('verification shown', (await textOf('verify-status')) === 'Journal verified');
await open('#/overview');
check('overview totals', (await textOf('total-commands')) === '400');
await screenshot('overview');

await open('#/replay/5e5e5e5e5e5e');
await sleep(2000);
if (wasmAllowed) {
  check('the player is mounted', (await evaluate(`${byTestId('replay')}.childElementCount`)) > 0);
  await evaluate(`document.querySelector('[data-testid="replay"] .ap-play-button')?.click()`);
  await sleep(3500);
  check('the recording plays', /syslog/.test(await evaluate(`${byTestId('replay')}.textContent`)));
}
else check('replay explains the missing wasm-unsafe-eval', /wasm-unsafe-eval/.test(await evaluate('document.body.textContent')));
await screenshot('replay');
await click('next-part');
await sleep(700);
check('a missing part is reported', /No recording for shell 2/.test(await evaluate('document.body.textContent')));

await click('sign-out');
await sleep(300);
check('sign-out returns to the sign-in page', (await count('[data-testid="token"]')) === 1);

await send('Page.navigate', { url: kBase });
await sleep(800);
await type('token', 'user');
await click('sign-in');
await sleep(1000);
check('a plain user sees reviews and access only', (await count('nav a[data-testid^="nav-"]')) === 2);
check('and no approve button', (await count('[data-testid^="approve-"]')) === 0);

check('nothing in the browser log', logged.length === 0, logged.join(' | '));
socket.close();
stop(failures === 0 ? 0 : 1);
