// SSH public key lines and certificates as a client presents them: reading never crashes,
// and a certificate read from the input verifies only if its signature does.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>

#include "identity/ssh_certificate.h"
#include "identity/ssh_keys.h"

namespace ssh = portcullis::identity::ssh;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string input(reinterpret_cast<const char*>(data), size);
  if (auto line = ssh::parse_public_key_line(input)) {
    // What was read is written back as the same key.
    auto again = ssh::parse_public_key_line(ssh::public_key_line(*line));
    if (!again || again->blob != line->blob || again->type != line->type) std::abort();
  }
  auto certificate = ssh::parse_certificate(input);
  if (certificate) {
    // Its own signature key as the authority: it verifies only if the signature does.
    auto ca = ssh::ed25519_key_from_blob(certificate->signature_key);
    const bool signature_ok =
        ca && ssh::ed25519_signature_verifies(ca->get(), certificate->signature,
                                              certificate->signed_bytes);
    auto verified = ssh::verify_user_certificate(input, certificate->signature_key,
                                                 certificate->fields.valid_after);
    if (verified && !signature_ok) std::abort();
  }
  return 0;
}
