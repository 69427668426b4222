// The shapes of the REST API documents the console reads (docs/api.md and docs/audit.md).
// Fields the server leaves out when they do not apply are optional here too.

export interface Me {
  subject: string;
  kind: string;
  groups: string[];
  roles: { admin: boolean; auditor: boolean };
}

export interface OidcProvider {
  issuer: string;
  client_id: string;
  scopes: string[];
}

export interface ConsoleConfig {
  oidc: OidcProvider[];
}

// An approval is documented only as a list entry; the console accepts either a subject
// or an object naming one.
export type Approval = string | { subject?: string; by?: string; reviewer?: string; time?: string };

export interface Review {
  id: string;
  kind: 'statement' | 'access' | string;
  status: string;
  requester: string;
  session?: string;
  connection: string;
  protocol?: string;
  command?: string;
  rule?: string;
  reviewers?: { groups: string[]; subjects: string[] };
  min_approvals: number;
  approvals: Approval[];
  created: string;
  expires: string;
  decided?: string;
  decided_by?: string;
  comment?: string;
  grant_expires?: string;
  executed?: string;
  reason?: string;
  duration_s?: number;
  may_decide?: boolean;
}

export interface LiveSession {
  id: string;
  subject: string;
  protocol: string;
  connection: string;
  client_addr: string;
  started: string;
  commands: number;
  bytes_in: number;
  bytes_out: number;
  held_review?: string | null;
}

export interface AuditEvent {
  seq: number;
  cursor?: string | number;
  id?: string;
  time: string;
  instance?: string;
  session?: string;
  event: string;
  subject?: string;
  subject_kind?: string;
  groups?: string[];
  auth?: string;
  // Which credential logged in: "ssh_key ID SHA256:…", "ssh_certificate SERIAL KEY_ID",
  // "api_key NAME", "jti JTI" (docs/audit.md); never a secret.
  credential?: string;
  client_addr?: string;
  connection?: string;
  protocol?: string;
  command?: string;
  params?: (string | null)[];
  fingerprint?: string;
  kinds?: string[];
  classes?: string[];
  verdict?: string;
  rule?: string;
  reviewer?: string;
  statement?: string;
  rows?: number;
  bytes_in?: number;
  bytes_out?: number;
  masked?: Record<string, number>;
  duration_us?: number;
  error?: string;
  results_sha256?: string;
  result_seq?: number;
  // Where the result record is among every instance's records: what its detail page is at.
  result_cursor?: number;
  prev_hash?: string;
  hash?: string;
}

export interface KeptResults {
  columns: string[];
  rows: (string | null)[][];
  truncated: boolean;
}

export interface EventDetail {
  event: AuditEvent;
  results: KeptResults | null;
}

export interface VerifyReport {
  ok: boolean;
  records_checked?: number;
  checkpoints_checked?: number;
  external_checkpoints_checked?: number;
  last_seq?: number;
  last_checkpoint_seq?: number;
  unanchored_records?: number;
  first_bad_seq?: number;
  message?: string;
}

export interface RevocationResult {
  subject: string;
  revoked_at: string;
  sessions_ended: number;
}
