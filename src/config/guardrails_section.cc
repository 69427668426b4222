// `guardrails`: conditions on a statement that deny it, hold it for review or let it through,
// checked in the order written.
#include <fmt/format.h>

#include "config/sections.h"

namespace portcullis::config {
namespace {

constexpr std::array<EnumName<GuardrailAction>, 3> kGuardrailActions{{
    {"deny", GuardrailAction::deny},
    {"review", GuardrailAction::review},
    {"allow", GuardrailAction::allow},
}};
constexpr std::array<EnumName<WhereCondition>, 2> kWhereConditions{{
    {"absent", WhereCondition::absent},
    {"present", WhereCondition::present},
}};

// `options: [{ program: find, options: [-delete, -exec] }]`
std::vector<GuardrailWhen::ProgramOptions> read_program_options(Reader& r, const Value& v) {
  std::vector<GuardrailWhen::ProgramOptions> out;
  r.for_each_item(v, [&](const Value& item) {
    Fields f = r.fields(item, {"program", "options"});
    GuardrailWhen::ProgramOptions entry;
    bool ok = r.require_name(f, "program", entry.program);
    if (const Value* x = f.find("options")) {
      entry.options = r.read_string_list(*x);
      for (const auto& option : entry.options) {
        if (option.size() < 2 || option.front() != '-') {
          r.problem(
              *x, fmt::format("{}: {:?} is not an option (options start with -)", x->path, option));
          ok = false;
        }
      }
    } else {
      r.problem(f.line(), fmt::format("{}: missing required key \"options\"", f.path()));
      ok = false;
    }
    if (ok) out.push_back(std::move(entry));
  });
  return out;
}

GuardrailWhen read_when(Reader& r, const Value& v, const Config& config) {
  Fields f = r.fields(
      v, {"statements", "classes", "functions", "tables", "where", "rows_over", "connections",
          "who", "programs", "paths", "options", "verbs", "resources", "namespaces", "names"});
  GuardrailWhen when;
  if (const Value* x = f.find("statements")) {
    when.statements = r.read_identifier_list(*x, "statement kind");
  }
  if (const Value* x = f.find("classes")) when.classes = r.read_word_list(*x, kCommandClasses);
  if (const Value* x = f.find("programs")) when.programs = r.read_string_list(*x);
  if (const Value* x = f.find("paths")) when.paths = r.read_string_list(*x);
  if (const Value* x = f.find("options")) when.options = read_program_options(r, *x);
  // A guardrail is about SQL statements or about ssh command lines: conditions of both would
  // leave it matching neither as its author meant.
  if (when.names_ssh_conditions()) {
    for (std::string_view key : {"statements", "functions", "tables", "where", "rows_over"}) {
      if (const Value* x = f.find(key))
        r.problem(*x, fmt::format("{}: {} is a condition on SQL statements, and this guardrail "
                                  "names ssh conditions (programs, paths, options); write two "
                                  "guardrails",
                                  f.path(), key));
    }
  }
  if (const Value* x = f.find("verbs")) when.verbs = r.read_word_list(*x, kKubernetesVerbs);
  if (const Value* x = f.find("resources")) when.resources = read_kubernetes_resources(r, *x);
  if (const Value* x = f.find("namespaces")) when.namespaces = r.read_string_list(*x);
  if (const Value* x = f.find("names")) when.names = r.read_string_list(*x);
  // Likewise for kubernetes requests, which are neither statements nor command lines (an exec
  // request's command is matched by the ssh conditions, so those may go with these).
  if (when.names_kubernetes_conditions()) {
    for (std::string_view key : {"statements", "functions", "tables", "where", "rows_over"}) {
      if (const Value* x = f.find(key))
        r.problem(*x, fmt::format("{}: {} is a condition on SQL statements, and this guardrail "
                                  "names kubernetes conditions (verbs, resources, namespaces, "
                                  "names); write two guardrails",
                                  f.path(), key));
    }
  }
  if (const Value* x = f.find("functions")) when.functions = r.read_string_list(*x);
  if (const Value* x = f.find("tables")) when.tables = r.read_string_list(*x);
  if (const Value* x = f.find("where")) {
    if (auto w = r.read_enum(*x, kWhereConditions)) when.where = *w;
  }
  if (const Value* x = f.find("rows_over")) {
    if (auto n = r.read_count(*x, 0)) when.rows_over = *n;
  }
  if (const Value* x = f.find("connections")) {
    r.for_each_item(*x, [&](const Value& item) {
      if (auto name = r.read_name(item)) {
        check_connection_name(r, config, item, *name);
        when.connections.push_back(std::move(*name));
      }
    });
  }
  if (const Value* x = f.find("who")) when.who = read_who(r, *x);
  return when;
}

}  // namespace

void read_guardrails(Reader& r, const Value& v, RuleNames& names, Config& config) {
  r.for_each_item(v, [&](const Value& item) {
    Fields f =
        r.fields(item, {"name", "when", "action", "message", "reviewers", "wait", "min_approvals"});
    GuardrailConfig rule;
    rule.line = f.line();
    bool ok = r.require_name(f, "name", rule.name);
    if (ok) ok = names.claim(r, rule.name, rule.line, item.path);

    // Required, even if empty ({} matches every command): a forgotten `when` on an `allow`
    // guardrail would silently end the guardrail check for everything.
    if (const Value* x = f.find("when")) {
      rule.when = read_when(r, *x, config);
    } else {
      r.problem(f.line(), fmt::format("{}: missing required key \"when\"", f.path()));
      ok = false;
    }

    std::optional<GuardrailAction> action;
    if (const Value* x = f.find("action")) {
      action = r.read_enum(*x, kGuardrailActions);
    } else {
      r.problem(f.line(), fmt::format("{}: missing required key \"action\"", f.path()));
    }
    if (action)
      rule.action = *action;
    else
      ok = false;
    if (const Value* x = f.find("message")) {
      if (auto s = r.read_string(*x)) rule.message = *s;
    }

    const Value* reviewers = f.find("reviewers");
    const Value* wait = f.find("wait");
    const Value* min_approvals = f.find("min_approvals");

    if (reviewers != nullptr) rule.reviewers = read_reviewers(r, *reviewers);
    if (wait != nullptr) {
      if (auto d = r.read_duration(*wait, false)) rule.wait = *d;
    }
    if (min_approvals != nullptr) {
      if (auto n = r.read_count(*min_approvals, 1)) rule.min_approvals = *n;
    }
    if (action == GuardrailAction::review) {
      if (rule.reviewers.groups.empty() && rule.reviewers.subjects.empty()) {
        r.problem(reviewers ? reviewers->line : f.line(),
                  fmt::format("{}: action review needs reviewers (groups or subjects)", f.path()));
      }
    } else if (action) {
      if (reviewers != nullptr) {
        r.problem(*reviewers,
                  fmt::format("{}: reviewers is only used with action: review", f.path()));
      }
      if (wait != nullptr) {
        r.problem(*wait, fmt::format("{}: wait is only used with action: review", f.path()));
      }
      if (min_approvals != nullptr) {
        r.problem(*min_approvals,
                  fmt::format("{}: min_approvals is only used with action: review", f.path()));
      }
    }
    if (ok) config.guardrails.push_back(std::move(rule));
  });
}

}  // namespace portcullis::config
