// `access`: the rules that grant an identity a connection, with the statement classes allowed,
// the masking profile, and just-in-time requests.
#include <fmt/format.h>

#include <algorithm>

#include "config/sections.h"

namespace portcullis::config {

void read_access(Reader& r, const Value& v, RuleNames& names, Config& config) {
  r.for_each_item(v, [&](const Value& item) {
    Fields f = r.fields(
        item, {"name", "who", "connections", "credentials", "allow", "masking", "programs",
               "resources", "requires_request", "reviewers", "min_approvals", "max_duration"});
    AccessRuleConfig rule;
    rule.line = f.line();
    bool ok = r.require_name(f, "name", rule.name);
    if (ok) ok = names.claim(r, rule.name, rule.line, item.path);

    if (const Value* x = f.find("who")) {
      rule.who = read_who(r, *x);
      if (rule.who.groups.empty() && rule.who.subjects.empty() && rule.who.kinds.empty()) {
        r.problem(*x, fmt::format("{}: name at least one of groups, subjects or kinds", x->path));
        ok = false;
      }
    } else {
      r.problem(f.line(), fmt::format("{}: missing required key \"who\"", f.path()));
      ok = false;
    }

    if (const Value* x = f.find("credentials")) {
      if (auto s = r.read_name(*x))
        rule.credentials = *s;
      else
        ok = false;
    }

    std::vector<const ConnectionConfig*> targets;
    if (const Value* x = f.find("connections")) {
      r.for_each_item(*x, [&](const Value& name_item) {
        auto name = r.read_name(name_item);
        if (!name) return;
        if (const ConnectionConfig* c = check_connection_name(r, config, name_item, *name)) {
          targets.push_back(c);
          if (!c->credentials.contains(rule.credentials)) {
            r.problem(name_item,
                      fmt::format("{}: connection \"{}\" has no credential profile \"{}\"",
                                  name_item.path, *name, rule.credentials));
            ok = false;
          }
        } else {
          ok = false;
        }
        rule.connections.push_back(std::move(*name));
      });
      if (x->node.IsNull() || (x->node.IsSequence() && x->node.size() == 0)) {
        r.problem(*x, fmt::format("{} must name at least one connection", x->path));
        ok = false;
      }
    } else {
      r.problem(f.line(), fmt::format("{}: missing required key \"connections\"", f.path()));
      ok = false;
    }

    if (const Value* x = f.find("allow")) rule.allow = r.read_word_list(*x, kCommandClasses);
    if (const Value* x = f.find("programs")) {
      rule.programs = r.read_string_list(*x);
      // An allow-list of programs says nothing to a database: a rule that reaches only
      // databases would look restricted and be not.
      const bool runs_commands = std::any_of(targets.begin(), targets.end(), [](auto* c) {
        return c->kind == ConnectionKind::ssh || c->kind == ConnectionKind::kubernetes;
      });
      if (!runs_commands)
        r.problem(*x, fmt::format("{}: programs applies to ssh and kubernetes connections, and "
                                  "this rule names neither",
                                  x->path));
      for (const auto& entry : rule.programs)
        if (entry.find_first_not_of(" \t") == std::string::npos)
          r.problem(*x, fmt::format("{}: an empty program entry", x->path));
    }

    if (const Value* x = f.find("resources")) {
      rule.resources = read_kubernetes_resources(r, *x);
      const bool reaches_kubernetes = std::any_of(targets.begin(), targets.end(), [](auto* c) {
        return c->kind == ConnectionKind::kubernetes;
      });
      if (!reaches_kubernetes)
        r.problem(*x, fmt::format("{}: resources applies to kubernetes connections, and this "
                                  "rule names none",
                                  x->path));
    }

    if (const Value* x = f.find("masking")) {
      if (auto s = r.read_name(*x)) {
        if (*s != "none" && !config.masking.profiles.empty() &&
            !config.masking.profiles.contains(*s)) {
          r.problem(*x, fmt::format("{}: unknown masking profile \"{}\"", x->path, *s));
        }
        rule.masking = *s;
      }
    }

    const Value* requires_request = f.find("requires_request");
    const Value* reviewers = f.find("reviewers");
    const Value* min_approvals = f.find("min_approvals");
    const Value* max_duration = f.find("max_duration");
    if (requires_request != nullptr) {
      if (auto b = r.read_bool(*requires_request)) rule.requires_request = *b;
    }
    if (reviewers != nullptr) rule.reviewers = read_reviewers(r, *reviewers);
    if (min_approvals != nullptr) {
      if (auto n = r.read_count(*min_approvals, 1)) rule.min_approvals = *n;
    }
    if (max_duration != nullptr) {
      if (auto d = r.read_duration(*max_duration, false)) rule.max_duration = *d;
    }
    if (rule.requires_request) {
      if (rule.reviewers.groups.empty() && rule.reviewers.subjects.empty()) {
        r.problem(
            reviewers ? reviewers->line : f.line(),
            fmt::format("{}: requires_request needs reviewers (groups or subjects)", f.path()));
      }
    } else {
      for (const Value* x : {reviewers, min_approvals, max_duration}) {
        if (x != nullptr)
          r.problem(*x, fmt::format("{} is only used with requires_request: true", x->path));
      }
    }
    if (ok) config.access.push_back(std::move(rule));
  });
}

}  // namespace portcullis::config
