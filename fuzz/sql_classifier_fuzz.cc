// libFuzzer target: arbitrary bytes as SQL text through the PostgreSQL classifier. It must
// never crash, text the classifier cannot read must never come out as a plain read, and a
// statement's redacted text must hold no secret the classifier would still find.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "sql/classifier.h"
#include "sql/secret_redaction.h"

namespace {

// Redacting a redacted text changes nothing: every secret literal the tree shows in it is
// already '***'. Had a redaction cut out the wrong token, the secret would still be there and
// be redacted again.
void check_redaction(const portcullis::sql::Statement& s) {
  if (s.redacted_text.empty() || s.redacted_text == portcullis::sql::withheld_text(s.kind)) {
    return;
  }
  portcullis::sql::Classification again = portcullis::sql::classify_postgres(s.redacted_text);
  for (const auto& t : again.statements) {
    if (!t.redacted_text.empty() && t.redacted_text != t.text) std::abort();
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view sql(reinterpret_cast<const char*>(data), size);
  portcullis::sql::Classification c = portcullis::sql::classify_postgres(sql);
  if (!c.parse_error.empty()) {
    if (c.statements.size() != 1 ||
        c.statements[0].classes !=
            static_cast<portcullis::sql::ClassSet>(portcullis::sql::StatementClass::unknown)) {
      std::abort();
    }
  }
  for (const auto& s : c.statements) {
    if (s.kind.empty() || s.text.size() > size) std::abort();
    check_redaction(s);
  }
  return 0;
}
