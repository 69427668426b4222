// `api`: which groups may administer the gateway and which may read the journal.
#include <fmt/format.h>

#include "config/sections.h"

namespace portcullis::config {

void read_api(Reader& r, const Value& v, ApiConfig& api) {
  Fields f = r.fields(v, {"admin_groups", "auditor_groups", "allowed_origins"});
  if (const Value* x = f.find("admin_groups")) api.admin_groups = r.read_string_list(*x);
  if (const Value* x = f.find("auditor_groups")) api.auditor_groups = r.read_string_list(*x);
  if (const Value* x = f.find("allowed_origins")) {
    api.allowed_origins = r.read_string_list(*x);
    for (const auto& origin : api.allowed_origins) {
      // An origin is a scheme, a host and maybe a port: what browsers send, nothing more.
      const bool scheme = origin.starts_with("https://") || origin.starts_with("http://");
      const auto rest = std::string_view(origin).substr(origin.find("//") + 2);
      if (!scheme || rest.empty() || rest.find('/') != std::string_view::npos)
        r.problem(*x, "api.allowed_origins: \"" + origin +
                          "\" is not an origin (scheme://host[:port], no path)");
    }
  }
}

}  // namespace portcullis::config
