// libFuzzer target: arbitrary bytes as SQL text through the PostgreSQL classifier. It must
// never crash, text the classifier cannot read must never come out as a plain read, a
// statement's redacted text must hold no secret the classifier would still find, every
// statement must have a class (EXECUTE excepted: the session decides it as what it runs), and
// a statement that is only read must call no function that changes data, takes a lock, runs
// SQL text it cannot show, or lives outside pg_catalog.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <span>
#include <string>
#include <string_view>

#include "sql/classifier.h"
#include "sql/postgres/secret_redaction.h"

namespace {

// Redacting a redacted text changes nothing: every secret literal the tree shows in it is
// already '***'. Had a redaction cut out the wrong token, the secret would still be there and
// be redacted again.
void check_redaction(const portcullis::sql::Statement& s) {
  if (s.redacted_text.empty() ||
      s.redacted_text == portcullis::sql::postgres::withheld_text(s.kind)) {
    return;
  }
  portcullis::sql::Classification again = portcullis::sql::classify(s.redacted_text);
  for (const auto& t : again.statements) {
    if (!t.redacted_text.empty() && t.redacted_text != t.text) std::abort();
  }
}

// Functions a plain read may never call, whatever their arguments.
constexpr std::string_view kNeverRead[] = {
    "nextval",
    "setval",
    "pg_notify",
    "lo_from_bytea",
    "lo_put",
    "lowrite",
    "lo_unlink",
    "lo_create",
    "txid_current",
    "pg_current_xact_id",
    "cursor_to_xml",
    "schema_to_xml",
    "database_to_xml",
    "pg_terminate_backend",
    "pg_read_file",
    "pg_advisory_lock",
    "pg_advisory_xact_lock",
};

// Functions that run SQL text: read only when the text was a constant the classifier read.
constexpr std::string_view kSqlText[] = {"query_to_xml", "query_to_xmlschema",
                                         "query_to_xml_and_xmlschema", "ts_stat", "ts_rewrite"};

bool listed(std::span<const std::string_view> list, std::string_view name) {
  for (auto n : list)
    if (n == name) return true;
  return false;
}

void check_read_only(const portcullis::sql::Statement& s) {
  using portcullis::sql::StatementClass;
  if (s.classes != static_cast<portcullis::sql::ClassSet>(StatementClass::read)) return;
  // A plain EXPLAIN runs nothing: it lists the calls of its statement without their classes.
  if (s.kind == "explain") return;
  if (s.touches_all_tables) std::abort();
  for (const auto& f : s.functions) {
    std::string_view name = f;
    if (name.starts_with("pg_catalog.")) name.remove_prefix(11);
    if (name.find('.') != std::string_view::npos) std::abort();  // another schema's function
    if (listed(kNeverRead, name)) std::abort();
    if (listed(kSqlText, name) && s.calls_unknown_functions) std::abort();
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view sql(reinterpret_cast<const char*>(data), size);
  portcullis::sql::Classification c = portcullis::sql::classify(sql);
  if (!c.parse_error.empty()) {
    if (c.statements.size() != 1 ||
        c.statements[0].classes !=
            static_cast<portcullis::sql::ClassSet>(portcullis::sql::StatementClass::unknown)) {
      std::abort();
    }
  }
  for (const auto& s : c.statements) {
    if (s.kind.empty() || s.text.size() > size) std::abort();
    if (s.classes == 0 && s.kind != "execute") std::abort();
    check_read_only(s);
    check_redaction(s);
  }
  return 0;
}
