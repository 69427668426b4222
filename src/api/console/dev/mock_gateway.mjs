// A stand-in for the gateway's HTTP listener, for trying the built console in a browser
// without a gateway: it serves dist/ under the same Content-Security-Policy the gateway sends,
// and answers the REST API calls the console makes with made-up data.
//
//   npm run build && node dev/mock_gateway.mjs [port]
//
// Credentials: "admin", "auditor" or "user" (anything else is refused with a 401).
import { createServer } from 'node:http';
import { readFile } from 'node:fs/promises';
import { extname, join, normalize } from 'node:path';
import { fileURLToPath } from 'node:url';

const kDist = fileURLToPath(new URL('../dist/', import.meta.url));
const kPort = Number(process.argv[2] ?? 4173);
// MOCK_SCRIPT_SRC="'self' 'wasm-unsafe-eval'" tries the replay player, which needs it.
const kScriptSrc = process.env.MOCK_SCRIPT_SRC ?? "'self'";
const kPolicy =
  `default-src 'self'; script-src ${kScriptSrc}; style-src 'self'; img-src 'self' data:; ` +
  `connect-src 'self' https://idp.example; frame-ancestors 'none'; base-uri 'none'; form-action 'self'`;
const kTypes = { '.html': 'text/html', '.js': 'text/javascript', '.css': 'text/css', '.svg': 'image/svg+xml' };

const people = {
  admin: { subject: 'ann', kind: 'user', groups: ['platform-admins', 'dba'], roles: { admin: true, auditor: false } },
  auditor: { subject: 'sam', kind: 'user', groups: ['security'], roles: { admin: false, auditor: true } },
  user: { subject: 'alice', kind: 'user', groups: ['engineering'], roles: { admin: false, auditor: false } },
};

const inMinutes = (minutes) => new Date(Date.now() + minutes * 60_000).toISOString();
let reviews = [
  {
    id: 'r-7k3qx9p2m4ab', kind: 'statement', status: 'pending', requester: 'alice', session: '1f2e3d4c5b6a',
    connection: 'app-db', protocol: 'postgres', command: 'DELETE FROM orders\n WHERE created < now() - interval \'90 days\'',
    rule: 'unbounded-writes-need-approval', reviewers: { groups: ['dba'], subjects: [] }, min_approvals: 2,
    approvals: [{ subject: 'bob' }], created: inMinutes(-3), expires: inMinutes(12),
  },
  {
    id: 'r-2mz8c1d0e9fq', kind: 'statement', status: 'pending', requester: 'carol', session: '9a8b7c6d5e4f',
    connection: 'billing', protocol: 'mysql', command: 'ALTER TABLE invoices DROP COLUMN legacy_ref',
    rule: 'ddl-needs-approval', reviewers: { groups: ['dba'], subjects: [] }, min_approvals: 1,
    approvals: [], created: inMinutes(-1), expires: inMinutes(4),
  },
  {
    id: 'r-access0001', kind: 'access', status: 'pending', requester: 'dave', connection: 'prod-db',
    rule: 'prod-on-request', reason: 'INC-4711: stuck payments', duration_s: 1800,
    reviewers: { groups: ['dba'], subjects: [] }, min_approvals: 1, approvals: [], created: inMinutes(-2), expires: inMinutes(58),
  },
];
const streams = new Set();
const visible = (who) => reviews.filter((r) => r.status === 'pending').map((r) => ({ ...r, may_decide: who.roles.admin && r.requester !== who.subject }));
const announce = () => { for (const { res, who } of streams) sendReviews(res, who); };
// Split over two data lines on purpose (where a newline is still valid JSON), so that the
// console's parser is exercised.
const sendReviews = (res, who) => {
  const json = JSON.stringify(visible(who));
  res.write(`event: reviews\r\ndata: {"reviews":\r\ndata: ${json}}\r\n\r\n`);
};

let sessions = [
  { id: '1f2e3d4c5b6a', subject: 'alice', protocol: 'postgres', connection: 'app-db', client_addr: '10.0.4.17:51234', started: inMinutes(-42), commands: 118, bytes_in: 20480, bytes_out: 5_400_000, held_review: 'r-7k3qx9p2m4ab' },
  { id: '9a8b7c6d5e4f', subject: 'carol', protocol: 'mysql', connection: 'billing', client_addr: '10.0.4.22:40022', started: inMinutes(-7), commands: 12, bytes_in: 1900, bytes_out: 88_000, held_review: 'r-2mz8c1d0e9fq' },
  { id: '5e5e5e5e5e5e', subject: 'erin', protocol: 'ssh', connection: 'bastion', client_addr: '10.0.9.3:60111', started: inMinutes(-15), commands: 31, bytes_in: 4400, bytes_out: 120_000, held_review: null },
  { id: 'k8k8k8k8k8k8', subject: 'ci-bot', protocol: 'kubernetes', connection: 'prod-cluster', client_addr: '10.0.1.5:443', started: inMinutes(-2), commands: 5, bytes_in: 800, bytes_out: 12_000, held_review: null },
];

const verdicts = ['allow', 'allow', 'allow', 'allow', 'allow', 'allow', 'deny', 'review_pending', 'approved'];
const commands = ['select * from orders where id = $1', 'update users set email = $1 where id = $2', 'select count(*) from payments', 'DELETE FROM sessions', 'ls -la /var/log', 'GET /api/v1/namespaces/prod/pods'];
const events = [];
for (let seq = 1; seq <= 400; seq++) {
  const verdict = verdicts[seq % verdicts.length];
  events.push({
    seq, cursor: seq, id: `1f2e.${seq}`, time: new Date(Date.now() - (400 - seq) * 210_000).toISOString().replace('Z', '123456Z'),
    event: 'statement', session: '1f2e3d4c5b6a', subject: ['alice', 'carol', 'erin'][seq % 3], subject_kind: 'user', groups: ['engineering'], auth: 'oidc',
    connection: 'app-db', protocol: 'postgres', command: commands[seq % commands.length], params: seq % 2 ? ['42', null] : undefined,
    verdict, rule: verdict === 'deny' ? 'no-deletes-without-where' : 'engineers-read', rows: verdict === 'allow' ? seq % 17 : undefined,
    bytes_out: 71 * (seq % 9), masked: seq % 5 === 0 ? { email: 3 } : undefined, duration_us: 400 + seq * 13,
    prev_hash: '0'.repeat(64), hash: 'ab'.repeat(32),
  });
}
const recording = [
  JSON.stringify({ version: 2, width: 80, height: 12, timestamp: 1764104645, env: { TERM: 'xterm-256color' } }),
  JSON.stringify([0.2, 'o', 'erin@bastion:~$ ']),
  JSON.stringify([1.1, 'o', 'ls -la /var/log\r\n']),
  JSON.stringify([1.4, 'o', 'total 12\r\n-rw-r----- 1 root adm 4096 auth.log\r\n-rw-r----- 1 root adm 8192 syslog\r\n']),
  JSON.stringify([2.5, 'o', 'erin@bastion:~$ ']),
].join('\n') + '\n';

function json(res, status, body) {
  res.writeHead(status, { 'Content-Type': 'application/json', 'Content-Security-Policy': kPolicy });
  res.end(JSON.stringify(body));
}
const fail = (res, status, code, message) => json(res, status, { error: { code, message } });
async function body(req) {
  let text = '';
  for await (const chunk of req) text += chunk;
  return text ? JSON.parse(text) : {};
}

async function api(req, res, url) {
  const path = url.pathname;
  if (path === '/api/v1/console/config') return json(res, 200, { oidc: [{ issuer: 'https://idp.example/', client_id: 'portcullis-console', scopes: ['openid', 'profile', 'email'] }] });
  const token = (req.headers.authorization ?? '').replace(/^Bearer /, '');
  const who = people[token];
  if (!who) return fail(res, 401, 'unauthorized', 'the token was refused: unknown credential');
  const auditor = who.roles.admin || who.roles.auditor;
  if (path === '/api/v1/me') return json(res, 200, who);
  if (path === '/api/v1/reviews/stream') {
    res.writeHead(200, { 'Content-Type': 'text/event-stream', 'Cache-Control': 'no-store' });
    res.write(': keep-alive\n\n');
    const entry = { res, who };
    streams.add(entry);
    sendReviews(res, who);
    const timer = setInterval(() => res.write(': keep-alive\n\n'), 15_000);
    req.on('close', () => { clearInterval(timer); streams.delete(entry); });
    return;
  }
  if (path === '/api/v1/reviews') {
    const status = url.searchParams.get('status');
    const all = reviews.map((r) => ({ ...r, may_decide: r.status === 'pending' && who.roles.admin && r.requester !== who.subject }));
    return json(res, 200, { reviews: status ? all.filter((r) => r.status === status) : all });
  }
  const decide = /^\/api\/v1\/reviews\/([^/]+)\/(approve|reject)$/.exec(path);
  if (decide && req.method === 'POST') {
    const review = reviews.find((r) => r.id === decide[1]);
    const { comment } = await body(req);
    if (!review) return fail(res, 404, 'not_found', 'no such review');
    if (!who.roles.admin) return fail(res, 403, 'forbidden', 'the rule does not name you as a reviewer');
    if (review.status !== 'pending') return fail(res, 409, 'conflict', `the review is already ${review.status}`);
    if (decide[2] === 'reject') Object.assign(review, { status: 'rejected', decided_by: who.subject, comment });
    else {
      review.approvals = [...review.approvals, { subject: who.subject }];
      if (review.approvals.length >= review.min_approvals) Object.assign(review, { status: 'approved', decided_by: who.subject, comment });
    }
    announce();
    return json(res, 200, review);
  }
  if (path === '/api/v1/access-requests' && req.method === 'POST') {
    const request = await body(req);
    if (!request.reason) return fail(res, 400, 'bad_request', 'the reason is empty');
    const review = { id: `r-acc${Date.now().toString(36)}`, kind: 'access', status: 'pending', requester: who.subject, connection: request.connection, rule: 'prod-on-request', reason: request.reason, duration_s: 1800, min_approvals: 1, approvals: [], created: inMinutes(0), expires: inMinutes(60) };
    reviews = [review, ...reviews];
    announce();
    return json(res, 201, review);
  }
  if (path === '/api/v1/sessions') return who.roles.admin ? json(res, 200, { sessions }) : fail(res, 403, 'forbidden', 'admins only');
  const kill = /^\/api\/v1\/sessions\/([^/]+)\/kill$/.exec(path);
  if (kill && req.method === 'POST') {
    const before = sessions.length;
    sessions = sessions.filter((s) => s.id !== kill[1]);
    return sessions.length < before ? json(res, 200, { id: kill[1], killed: true }) : fail(res, 404, 'not_found', 'no such session');
  }
  if (path === '/api/v1/revocations' && req.method === 'POST') {
    const { subject } = await body(req);
    const ended = sessions.filter((s) => s.subject === subject).length;
    sessions = sessions.filter((s) => s.subject !== subject);
    return json(res, 200, { subject, revoked_at: new Date().toISOString(), sessions_ended: ended });
  }
  const recordingMatch = /^\/api\/v1\/sessions\/([^/]+)\/recording$/.exec(path);
  if (recordingMatch) {
    if (!auditor) return fail(res, 403, 'forbidden', 'auditors only');
    if (recordingMatch[1] !== '5e5e5e5e5e5e' || (url.searchParams.get('part') ?? '1') !== '1') return fail(res, 404, 'not_found', 'no recording');
    res.writeHead(200, { 'Content-Type': 'application/x-asciicast' });
    return res.end(recording);
  }
  if (!auditor) return fail(res, 403, 'forbidden', 'this needs a group listed in api.auditor_groups or api.admin_groups');
  if (path === '/api/v1/audit') {
    const limit = Number(url.searchParams.get('limit') ?? 100);
    const before = url.searchParams.get('before');
    let matches = events.filter((e) => (before ? e.cursor < Number(before) : true));
    for (const name of ['subject', 'connection', 'verdict']) {
      const value = url.searchParams.get(name);
      if (value) matches = matches.filter((e) => e[name] === value);
    }
    const contains = url.searchParams.get('contains');
    if (contains) matches = matches.filter((e) => e.command.includes(contains));
    return json(res, 200, { events: matches.slice(-limit) });
  }
  const detail = /^\/api\/v1\/audit\/events\/(\d+)$/.exec(path);
  if (detail) {
    const event = events.find((e) => e.seq === Number(detail[1]));
    if (!event) return fail(res, 404, 'not_found', 'no such record');
    const results = event.rows ? { columns: ['id', 'email'], rows: [['1', 'a***@example.com'], [null, 'b***@example.com']], truncated: event.rows > 10 } : null;
    return json(res, 200, { event, results });
  }
  if (path === '/api/v1/audit/verify') return json(res, 200, { ok: true, records_checked: 400, checkpoints_checked: 3, external_checkpoints_checked: 0, last_seq: 400, last_checkpoint_seq: 384, unanchored_records: 16 });
  return fail(res, 404, 'not_found', 'no such endpoint');
}

createServer(async (req, res) => {
  const url = new URL(req.url, 'http://localhost');
  try {
    if (url.pathname.startsWith('/api/')) return await api(req, res, url);
    const file = normalize(join(kDist, url.pathname === '/' ? 'index.html' : url.pathname));
    if (!file.startsWith(kDist)) return fail(res, 404, 'not_found', 'no such file');
    const content = await readFile(file);
    res.writeHead(200, { 'Content-Type': kTypes[extname(file)] ?? 'application/octet-stream', 'Content-Security-Policy': kPolicy });
    res.end(content);
  } catch {
    fail(res, 404, 'not_found', 'no such file');
  }
}).listen(kPort, '127.0.0.1', () => console.log(`console on http://127.0.0.1:${kPort}/`));
