// libFuzzer target: arbitrary bytes as SQL text through the PostgreSQL classifier. It must
// never crash, and text the classifier cannot read must never come out as a plain read.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "sql/classifier.h"

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
  }
  return 0;
}
