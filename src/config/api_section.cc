// `api`: which groups may administer the gateway and which may read the journal.
#include <fmt/format.h>

#include "config/sections.h"

namespace portcullis::config {

void read_api(Reader& r, const Value& v, ApiConfig& api) {
  Fields f = r.fields(v, {"admin_groups", "auditor_groups"});
  if (const Value* x = f.find("admin_groups")) api.admin_groups = r.read_string_list(*x);
  if (const Value* x = f.find("auditor_groups")) api.auditor_groups = r.read_string_list(*x);
}

}  // namespace portcullis::config
