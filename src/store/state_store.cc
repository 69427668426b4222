// open_state_store: picks the store implementation from the state URL's scheme.
#include "store/state_store.h"

#include <fmt/format.h>

#include "store/journal_store.h"
#include "store/postgres_journal_store.h"
#include "store/postgres_store.h"
#include "store/sqlite_journal_store.h"
#include "store/sqlite_store.h"

namespace portcullis::store {
namespace {

constexpr std::string_view kSqliteScheme = "sqlite://";

bool is_postgres_url(std::string_view url) {
  return url.starts_with("postgresql://") || url.starts_with("postgres://");
}

// The SQLite file a state URL names, or why it names none.
Result<std::filesystem::path> sqlite_file(std::string_view url) {
  if (url.substr(0, kSqliteScheme.size()) == kSqliteScheme) {
    std::filesystem::path file(url.substr(kSqliteScheme.size()));
    // The configuration loader makes relative paths absolute; a relative one here would
    // depend on the current folder, so it is refused rather than guessed.
    if (!file.is_absolute())
      return make_error(fmt::format(
          "state store URL \"{}\" must name an absolute path (sqlite:///abs/path.db)", url));
    return file;
  }
  return make_error(fmt::format("unknown state store URL \"{}\" (expected sqlite:///path.db)",
                                url.substr(0, url.find("://"))));
}

}  // namespace

Result<std::unique_ptr<StateStore>> open_state_store(std::string_view url) {
  if (is_postgres_url(url)) return open_postgres_store(url);
  auto file = sqlite_file(url);
  if (!file) return file.error();
  return open_sqlite_store(*file);
}

Result<std::unique_ptr<JournalStore>> open_journal_store(std::string_view url,
                                                         const JournalStoreOptions& options) {
  if (is_postgres_url(url)) return open_postgres_journal_store(url, options);
  auto file = sqlite_file(url);
  if (!file) return file.error();
  return open_sqlite_journal_store(*file, options);
}

}  // namespace portcullis::store
