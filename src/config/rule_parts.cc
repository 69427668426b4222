// The parts access rules and guardrails share: who a rule is for, who reviews, the one
// namespace of rule names, and references to connections.
#include <fmt/format.h>

#include "config/sections.h"

namespace portcullis::config {
namespace {

constexpr std::array<std::string_view, 2> kSubjectKinds{"user", "service"};

}  // namespace

WhoConfig read_who(Reader& r, const Value& v) {
  Fields f = r.fields(v, {"groups", "subjects", "kinds"});
  WhoConfig who;
  if (const Value* x = f.find("groups")) who.groups = r.read_string_list(*x);
  if (const Value* x = f.find("subjects")) who.subjects = r.read_string_list(*x);
  if (const Value* x = f.find("kinds")) who.kinds = r.read_word_list(*x, kSubjectKinds);
  return who;
}

ReviewersConfig read_reviewers(Reader& r, const Value& v) {
  ReviewersConfig reviewers;
  Fields f = r.fields(v, {"groups", "subjects"});
  if (const Value* x = f.find("groups")) reviewers.groups = r.read_string_list(*x);
  if (const Value* x = f.find("subjects")) reviewers.subjects = r.read_string_list(*x);
  return reviewers;
}

bool RuleNames::claim(Reader& r, const std::string& name, int line, std::string_view path) {
  auto [it, inserted] = lines_.emplace(name, line);
  if (!inserted) {
    r.problem(line, fmt::format("{}: rule name \"{}\" is already used at line {}", path, name,
                                it->second));
  }
  return inserted;
}

const ConnectionConfig* check_connection_name(Reader& r, const Config& config, const Value& item,
                                              const std::string& name) {
  const ConnectionConfig* c = config.find_connection(name);
  if (c == nullptr) {
    r.problem(item, fmt::format("{}: unknown connection \"{}\"", item.path, name));
  }
  return c;
}

std::vector<std::string> read_kubernetes_resources(Reader& r, const Value& v) {
  std::vector<std::string> resources = r.read_string_list(v);
  for (const auto& entry : resources) {
    // As the API server names them: lower case; a resource, and a subresource after one slash.
    const auto slash = entry.find('/');
    const bool ok =
        !entry.empty() && entry.front() != '/' && entry.back() != '/' &&
        entry.find('/', slash == std::string::npos ? entry.size() : slash + 1) ==
            std::string::npos &&
        entry.find_first_not_of("abcdefghijklmnopqrstuvwxyz0123456789-./") == std::string::npos;
    if (!ok)
      r.problem(v, fmt::format("{}: {:?} is not a kubernetes resource (lower case, as in "
                               "\"pods\" or \"pods/log\")",
                               v.path, entry));
  }
  return resources;
}

}  // namespace portcullis::config
