// `state`: where the state store lives (SQLite file or PostgreSQL URL), and `instance`, the
// name this gateway goes by in it.
#include <fmt/format.h>
#include <unistd.h>

#include <algorithm>

#include "config/sections.h"

namespace portcullis::config {
namespace {

constexpr std::string_view kDefaultStateUrl = "sqlite://var/portcullis.db";
// An instance name is a label in records, log lines and NOTIFY payloads: a host name's
// characters, and short.
constexpr std::size_t kMaxInstanceName = 63;

bool is_instance_name(std::string_view name) {
  return !name.empty() && name.size() <= kMaxInstanceName &&
         std::all_of(name.begin(), name.end(), [](char c) {
           return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                  c == '-' || c == '_' || c == '.';
         });
}

std::string host_name() {
  char host[256] = {};
  if (gethostname(host, sizeof host - 1) != 0 || host[0] == '\0') return "portcullis";
  std::string name(host);
  if (name.size() > kMaxInstanceName) name.resize(kMaxInstanceName);
  return name;
}

}  // namespace

void read_state(Reader& r, const Value* v, std::string& state_url) {
  std::string url(kDefaultStateUrl);
  int line = 0;
  if (v != nullptr) {
    Fields f = r.fields(*v, {"url"});
    if (const Value* x = f.find("url")) {
      auto s = r.read_name(*x);
      if (!s) return;
      url = *s;
      line = x->line;
    }
  }
  constexpr std::string_view kSqlite = "sqlite://";
  if (url.starts_with(kSqlite)) {
    const std::string rest = url.substr(kSqlite.size());
    if (rest.empty() || rest == "/") {
      r.problem(line, "state.url: the SQLite file is missing (sqlite://PATH)");
      return;
    }
    state_url = std::string(kSqlite) + r.resolve(rest).string();
    return;
  }
  if (url.starts_with("postgresql://") || url.starts_with("postgres://")) {
    state_url = url;
    return;
  }
  // The value is not repeated: a mistyped PostgreSQL URL may carry a password.
  r.problem(line, "state.url: expected sqlite://PATH or postgresql://...");
}

void read_instance(Reader& r, const Value* v, std::string& instance) {
  if (v == nullptr) {
    instance = host_name();
    return;
  }
  auto name = r.read_name(*v);
  if (!name) return;
  if (!is_instance_name(*name)) {
    r.problem(v->line, fmt::format("instance: \"{}\" is not a name (letters, digits, '-', '_', "
                                   "'.'; at most {} characters)",
                                   *name, kMaxInstanceName));
    return;
  }
  instance = *name;
}

}  // namespace portcullis::config
