// `state`: where the state store lives (SQLite file or PostgreSQL URL).
#include <fmt/format.h>

#include "config/sections.h"

namespace portcullis::config {
namespace {

constexpr std::string_view kDefaultStateUrl = "sqlite://var/portcullis.db";

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

}  // namespace portcullis::config
