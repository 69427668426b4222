// open_state_store: picks the store implementation from the state URL's scheme.
#include "store/state_store.h"

#include <fmt/format.h>

#include "store/sqlite_store.h"

namespace portcullis::store {
namespace {

constexpr std::string_view kSqliteScheme = "sqlite://";

}  // namespace

Result<std::unique_ptr<StateStore>> open_state_store(std::string_view url) {
  if (url.substr(0, kSqliteScheme.size()) == kSqliteScheme) {
    const std::filesystem::path file(url.substr(kSqliteScheme.size()));
    // The configuration loader makes relative paths absolute; a relative one here would
    // depend on the current folder, so it is refused rather than guessed.
    if (!file.is_absolute())
      return make_error(fmt::format(
          "state store URL \"{}\" must name an absolute path (sqlite:///abs/path.db)", url));
    return open_sqlite_store(file);
  }
  if (url.starts_with("postgresql://") || url.starts_with("postgres://"))
    return make_error("the PostgreSQL state store is not supported yet; use sqlite://");
  return make_error(fmt::format("unknown state store URL \"{}\" (expected sqlite:///path.db)",
                                url.substr(0, url.find("://"))));
}

}  // namespace portcullis::store
