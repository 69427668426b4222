// `tls`: the certificate the listeners present, and where plain TCP is still accepted.
#include <fmt/format.h>

#include "config/sections.h"

namespace portcullis::config {
namespace {

constexpr std::array<EnumName<PlaintextPolicy>, 3> kPlaintextPolicies{{
    {"loopback", PlaintextPolicy::loopback},
    {"allow", PlaintextPolicy::allow},
    {"never", PlaintextPolicy::never},
}};

}  // namespace

std::optional<TlsConfig> read_tls(Reader& r, const Value& v) {
  Fields f = r.fields(v, {"cert_file", "key_file", "plaintext"});
  TlsConfig tls;
  bool complete = true;
  for (auto [key, target] :
       {std::pair{"cert_file", &tls.cert_file}, std::pair{"key_file", &tls.key_file}}) {
    if (const Value* file = f.find(key)) {
      if (auto p = r.read_existing_file(*file))
        *target = *p;
      else
        complete = false;
    } else {
      r.problem(f.line(), fmt::format("tls: missing required key \"{}\"", key));
      complete = false;
    }
  }
  if (const Value* p = f.find("plaintext")) {
    if (auto policy = r.read_enum(*p, kPlaintextPolicies)) tls.plaintext = *policy;
  }
  if (!complete) return std::nullopt;
  return tls;
}

}  // namespace portcullis::config
