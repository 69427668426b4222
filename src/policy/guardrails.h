// Guardrail matching: does a guardrail's `when` hold for one statement of a command, or for
// one simple command of an SSH command line.
#pragma once

#include "config/config.h"
#include "identity/identity.h"
#include "policy/command.h"
#include "shell/command_line.h"
#include "sql/statement.h"

namespace portcullis::policy {

// A guardrail matches a statement when at least one of the "what" criteria it states holds
// (statements, classes, functions, tables; none stated: any statement) and every qualifier
// it states holds too (where, connections, who). So `{statements: [copy_program],
// functions: [pg_read_file]}` catches either, and `{statements: [delete], where: absent}`
// catches only an unbounded DELETE.
// `rows_over` compares `estimated_rows`, the planner's estimate of the rows the statement
// writes: unknown (nullopt) matches, as a write the gateway cannot bound.
bool guardrail_matches(const config::GuardrailWhen& when, const sql::Statement& statement,
                       std::string_view connection, const identity::Identity& identity,
                       std::optional<uint64_t> estimated_rows = std::nullopt);

// The same for an SSH command, one simple command of its line at a time, as statements are
// one at a time: an `allow` guardrail that matches `ls` in `ls; rm -rf /` then does not spare
// the `rm`. `simple` is null for an operation that is not a command line, or a line in which
// nothing runs (one that does not parse). "What" criteria, any of which may hold (none stated:
// any command): `programs` (an entry matches the simple command, as an access rule's
// `programs` entry would, or one of its wrappers: `sudo` matches `sudo rm x`), `paths` (a glob
// matches one of its arguments or redirection targets, normalised, or one of the operation's
// paths), `options` (the program, or a wrapper, matches and has one of the options), `classes` (the
// command as a whole needs one of them: exec, shell, file_write, sftp, forward, unknown).
// Qualifiers `connections` and `who` must hold too. A guardrail that states a condition on SQL
// statements (statements, functions, tables, where, rows_over) never matches a shell command.
bool guardrail_matches(const config::GuardrailWhen& when, const ShellCommand& command,
                       const shell::SimpleCommand* simple, std::string_view connection,
                       const identity::Identity& identity);

// Whether the ssh conditions of a guardrail (programs, paths, options) hold for one simple
// command (null: none) of a command line.
bool shell_conditions_match(const config::GuardrailWhen& when, const ShellCommand& command,
                            const shell::SimpleCommand* simple);

// The same for a Kubernetes request. Its conditions `verbs`, `resources` (an entry names the
// resource, "pods", which covers its subresources, or one subresource, "pods/log"),
// `namespaces` and `names` (globs; a cluster-scoped request has no namespace; a request on the
// whole collection, which can return or change objects of any name, matches any `names`) must
// each hold where stated, as `connections` and `who`; `classes`, where stated, must
// name one the request needs; the ssh conditions (programs, paths, options), where stated, hold
// only for an exec request whose command line's simple command `simple` matches them. A
// guardrail that states a condition on SQL statements never matches.
bool guardrail_matches(const config::GuardrailWhen& when, const KubeCommand& request,
                       const shell::SimpleCommand* simple, std::string_view connection,
                       const identity::Identity& identity);

// Whether a `paths` glob matches a path a command names. A path that is itself a pattern (an
// unquoted glob the shell expands on the target, `/etc/sha*`) matches when it could name a
// file the glob names: the glob is a plain path that the pattern matches. A relative path
// (`shadow`, `../../etc/shadow`, `~/.ssh/authorized_keys`) matches when the glob ends, after
// its last wildcard, with `/` and that path (its leading `../` and `~` dropped): the line may
// have changed to any directory first, and the gateway does not follow it.
bool path_matches(std::string_view glob, std::string_view path);

// Whether the statement writes rows: insert, update, delete or merge, itself or nested.
bool writes_rows(const sql::Statement& statement);

// Function names compare case-insensitively and without their schema: "pg_catalog.F"
// matches "f".
bool function_name_matches(std::string_view pattern, std::string_view called);

// Table patterns are globs (fnmatch) over "schema.table" and over the bare table name.
bool table_matches(std::string_view pattern, std::string_view table);

}  // namespace portcullis::policy
