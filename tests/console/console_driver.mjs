// Drives Debian's Chromium (headless, through playwright-core) through the web console for the
// integration tests (tests/integration/console_test.cc). The test writes a JSON list of steps
// to stdin; each step prints one JSON line with its `tag` (when it has one), and the run ends
// with {"op":"done"} — or {"op":"failed"} with the step, the error and a screenshot, so that a
// failing test shows what the page looked like.
//
//   node console_driver.mjs --url http://127.0.0.1:PORT --screenshots DIR [--chromium PATH]
//
// Steps (`selector` is a Playwright selector; `testid` is shorthand for [data-testid="…"]):
//   {"op":"open", "path":"/"}                      load a page of the gateway (or "url")
//   {"op":"sign_in", "token":"…"}                  paste a credential on the sign-in page
//   {"op":"goto", "hash":"#/journal"}              switch page
//   {"op":"wait", "testid":"…"}                    until it is visible
//   {"op":"wait_gone", "testid":"…"}               until it is gone
//   {"op":"wait_text", "testid":"…", "text":"…"}   until it contains the text
//   {"op":"fill", "testid":"…", "value":"…"}
//   {"op":"select", "testid":"…", "value":"…"}
//   {"op":"click", "testid":"…"}
//   {"op":"text", "testid":"…", "tag":"…"}         prints {"tag", "text"}
//   {"op":"count", "testid":"…", "tag":"…"}        prints {"tag", "count"}
//   {"op":"fetch", "tag":"…", "method":"POST", "path":"…", "token":"…"?, "body":{…}?}
//       fetch() from the page (its origin, its cookies if any): prints {"tag", "status", "body"}
//   {"op":"forge", "tag":"…", "origin":"http://localhost:PORT", "method":"POST", "path":"…"}
//       a page of another origin sends the request with the browser's credentials:
//       prints {"tag", "status"} (0: the browser refused to send it, or blocked the answer)
//   {"op":"global", "name":"pwned", "tag":"…"}     prints {"tag", "type"}: typeof window[name]
//   {"op":"screenshot", "name":"reviews"}          DIR/NAME.png (full page)
//   {"op":"problems", "tag":"…"}                   prints {"tag", "problems"}: page errors,
//                                                  console errors, CSP violations so far
import { chromium } from 'playwright-core';
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

function argument(name, fallback) {
  const at = process.argv.indexOf(name);
  return at >= 0 && at + 1 < process.argv.length ? process.argv[at + 1] : fallback;
}

const baseUrl = argument('--url');
const screenshots = argument('--screenshots', '.');
const executablePath = argument('--chromium', '/usr/bin/chromium');
const timeout = Number(argument('--timeout-ms', '20000'));
if (!baseUrl) {
  console.error('usage: console_driver.mjs --url URL [--screenshots DIR] [--chromium PATH]');
  process.exit(2);
}
mkdirSync(screenshots, { recursive: true });

const steps = JSON.parse(readFileSync(0, 'utf8'));
const print = (line) => process.stdout.write(JSON.stringify(line) + '\n');
const locate = (page, step) =>
  page.locator(step.selector ?? `[data-testid="${step.testid}"]`).first();

// Root in a container or CI needs --no-sandbox; the test gateway's loopback address is
// plain HTTP.
const browser = await chromium.launch({
  executablePath,
  headless: true,
  args: ['--no-sandbox', '--disable-dev-shm-usage'],
});
const context = await browser.newContext({ viewport: { width: 1280, height: 860 } });
context.setDefaultTimeout(timeout);
const page = await context.newPage();
const problems = [];
page.on('pageerror', (error) => problems.push(`page error: ${error.message}`));
page.on('console', (message) => {
  if (message.type() === 'error') problems.push(`console error: ${message.text()}`);
});

let index = 0;
try {
  for (; index < steps.length; ++index) {
    const step = steps[index];
    switch (step.op) {
      case 'open':
        await page.goto(step.url ?? new URL(step.path ?? '/', baseUrl).href);
        break;
      case 'sign_in':
        await page.locator('[data-testid="token"]').fill(step.token);
        await page.locator('[data-testid="sign-in"]').click();
        await page.locator('[data-testid="whoami"]').waitFor();
        break;
      case 'goto':
        await page.evaluate((hash) => {
          window.location.hash = hash;
        }, step.hash);
        break;
      case 'wait':
        await locate(page, step).waitFor({ state: 'visible' });
        break;
      case 'wait_gone':
        await locate(page, step).waitFor({ state: 'detached' });
        break;
      case 'wait_text': {
        const target = locate(page, step);
        const deadline = Date.now() + timeout;
        for (;;) {
          const text = (await target.textContent({ timeout })) ?? '';
          if (text.includes(step.text)) break;
          if (Date.now() > deadline)
            throw new Error(`"${step.text}" never appeared in ${step.testid}: "${text}"`);
          await page.waitForTimeout(100);
        }
        break;
      }
      case 'fill':
        await locate(page, step).fill(step.value);
        break;
      case 'select':
        await locate(page, step).selectOption(step.value);
        break;
      case 'click':
        await locate(page, step).click();
        break;
      case 'text':
        print({ tag: step.tag, text: (await locate(page, step).textContent()) ?? '' });
        break;
      case 'count':
        print({
          tag: step.tag,
          count: await page.locator(step.selector ?? `[data-testid="${step.testid}"]`).count(),
        });
        break;
      case 'fetch': {
        const answer = await page.evaluate(async ({ method, path, token, body }) => {
          const headers = { 'Content-Type': 'application/json' };
          if (token) headers.Authorization = `Bearer ${token}`;
          const response = await fetch(path, {
            method,
            headers,
            body: body === undefined ? undefined : JSON.stringify(body),
          });
          return { status: response.status, body: await response.text() };
        }, step);
        print({ tag: step.tag, ...answer });
        break;
      }
      case 'forge': {
        // Another origin's page, as a site the reviewer happens to visit would be.
        const other = await context.newPage();
        await other.goto(new URL('/api/v1/health', step.origin).href);
        const status = await other.evaluate(async ({ method, url }) => {
          try {
            const response = await fetch(url, {
              method,
              credentials: 'include',
              headers: { 'Content-Type': 'text/plain' },
              body: '{"comment":"forged"}',
            });
            return response.status;
          } catch {
            return 0;
          }
        }, { method: step.method ?? 'POST', url: new URL(step.path, baseUrl).href });
        await other.close();
        print({ tag: step.tag, status });
        break;
      }
      case 'global':
        print({ tag: step.tag, type: await page.evaluate((name) => typeof window[name], step.name) });
        break;
      case 'screenshot':
        await page.screenshot({ path: join(screenshots, `${step.name}.png`), fullPage: true });
        print({ tag: `screenshot:${step.name}` });
        break;
      case 'problems':
        print({ tag: step.tag, problems: [...problems] });
        break;
      default:
        throw new Error(`unknown step ${JSON.stringify(step)}`);
    }
  }
  print({ op: 'done' });
} catch (error) {
  const name = `failure-step-${index}`;
  await page.screenshot({ path: join(screenshots, `${name}.png`), fullPage: true }).catch(() => {});
  print({
    op: 'failed',
    step: index,
    error: String(error?.message ?? error),
    screenshot: name,
    url: page.url(),
    problems,
  });
} finally {
  await browser.close();
}
