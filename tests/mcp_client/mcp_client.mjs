// MCP client that the integration tests start as a child process to drive the gateway's /mcp
// endpoint over the streamable HTTP transport, with the official TypeScript SDK.
//
// Usage: node mcp_client.mjs --url URL [--header "Name: value"]... < steps.json
//
// stdin holds a JSON array of steps, run in order once all of stdin is read; each step writes one
// JSON object on its own line to stdout: {"op", "tag" (when the step has one), "ok", ...}. A step
// that fails writes "ok": false and an "error" {name, code, message}, and the next step runs.
// After the last step the script writes {"op":"done"} and exits 0. Steps:
//   {"op":"connect"}                         a new client and session (initialize + initialized)
//   {"op":"list_tools"}                      "tools": the tools/list result's tools
//   {"op":"call","name":N,"arguments":{}}    "result": the CallToolResult
//   {"op":"call","name":N,"arguments_file":P}  the same, its arguments read from the JSON file P
//                                            when the step runs (values the test learns later)
//   {"op":"ping"}
//   {"op":"wait_file","path":P,"timeout_ms":30000}   waits until the file P exists
//   {"op":"sleep","ms":N}
//   {"op":"terminate"}                       ends the session with an HTTP DELETE
//   {"op":"close"}                           closes the client
// Bad usage or steps that are not such an array: a message on stderr and exit 2.

import { existsSync, readFileSync, writeSync } from 'node:fs';
import { text } from 'node:stream/consumers';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';

function fail(message) {
  process.stderr.write(`mcp_client.mjs: ${message}\n` +
    'usage: node mcp_client.mjs --url URL [--header "Name: value"]... < steps.json\n');
  process.exit(2);
}

// Written with writeSync so that each line is in the stdout file as soon as its step ends: the
// test reads that file while the script still runs.
function emit(object) {
  writeSync(1, JSON.stringify(object) + '\n');
}

let args;
try {
  args = parseArgs({ options: { url: { type: 'string' }, header: { type: 'string', multiple: true } } }).values;
} catch (e) {
  fail(e.message);
}
if (!args.url) fail('--url is required');
let url;
try {
  url = new URL(args.url);
} catch {
  fail(`bad URL: ${args.url}`);
}
const headers = {};
for (const header of args.header ?? []) {
  const colon = header.indexOf(':');
  if (colon <= 0) fail(`bad header (want "Name: value"): ${header}`);
  headers[header.slice(0, colon).trim()] = header.slice(colon + 1).trim();
}

let client;
let transport;

const ops = {
  async connect() {
    // A new client and transport each time: neither can be connected again once closed, and a
    // test may want a second session after terminate or close.
    transport = new StreamableHTTPClientTransport(url, { requestInit: { headers } });
    client = new Client({ name: 'portcullis-tests', version: '1.0.0' });
    // The transport's errors go to stderr for the test's log: those of the steps (which are also
    // in their lines) and those outside any step, such as on the server-to-client GET stream.
    // The cause tells what a bare "fetch failed" was (connection refused, TLS, ...).
    client.onerror = (e) => process.stderr.write(
      `mcp_client.mjs: ${e.name}: ${e.message}${e.cause ? ` (${e.cause.message ?? e.cause})` : ''}\n`);
    await client.connect(transport);
    return {
      sessionId: transport.sessionId,
      serverVersion: client.getServerVersion(),
      capabilities: client.getServerCapabilities(),
      instructions: client.getInstructions(),
    };
  },
  async list_tools() {
    return { tools: (await client.listTools()).tools };
  },
  async call(step) {
    const args = step.arguments_file ? JSON.parse(readFileSync(step.arguments_file, 'utf8')) : step.arguments;
    return { result: await client.callTool({ name: step.name, arguments: args ?? {} }) };
  },
  async ping() {
    await client.ping();
  },
  async wait_file(step) {
    const timeoutMs = step.timeout_ms ?? 30000;
    const deadline = Date.now() + timeoutMs;
    while (!existsSync(step.path)) {
      if (Date.now() >= deadline) throw new Error(`${step.path} not there after ${timeoutMs} ms`);
      await sleep(20);
    }
  },
  async sleep(step) {
    await sleep(step.ms);
  },
  async terminate() {
    await transport.terminateSession();
  },
  async close() {
    await client.close();
  },
};

let steps;
try {
  steps = JSON.parse(await text(process.stdin));
} catch (e) {
  fail(`stdin is not JSON: ${e.message}`);
}
if (!Array.isArray(steps)) fail('stdin is not a JSON array of steps');
for (const step of steps) {
  if (!Object.hasOwn(ops, step?.op)) fail(`not a step: ${JSON.stringify(step)}`);
}

for (const step of steps) {
  try {
    emit({ op: step.op, tag: step.tag, ok: true, ...await ops[step.op](step) });
  } catch (e) {
    emit({ op: step.op, tag: step.tag, ok: false, error: { name: e?.name, code: e?.code, message: e?.message ?? String(e) } });
  }
}
emit({ op: 'done' });
// Exits at once: an open server-to-client stream or an unclosed client would keep node running.
process.exit(0);
