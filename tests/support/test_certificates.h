// A throw-away certificate authority and the certificates tests need: a server certificate
// for localhost and 127.0.0.1, and more on demand (gateway, client certificates).
#pragma once

#include <sys/types.h>

#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "temp_dir.h"

namespace portcullis::testing {

struct CertificatePair {
  std::filesystem::path cert_file;
  std::filesystem::path key_file;  // PEM, unencrypted, mode 0600
};

class TestCertificates {
 public:
  // Makes the CA and a server certificate (CN localhost, SAN DNS:localhost, IP:127.0.0.1)
  // with the openssl command-line tool. Throws std::runtime_error if openssl fails.
  TestCertificates();

  const std::filesystem::path& ca_file() const { return ca_.cert_file; }
  const std::filesystem::path& ca_key_file() const { return ca_.key_file; }
  const std::filesystem::path& cert_file() const { return server_.cert_file; }
  const std::filesystem::path& key_file() const { return server_.key_file; }
  const std::filesystem::path& dir() const { return dir_.path(); }

  // Another certificate signed by the CA. `subject_alt_names` are openssl SAN entries such as
  // "DNS:gateway.test" or "IP:127.0.0.1"; `client` selects the clientAuth key usage.
  CertificatePair issue(std::string_view name, std::string_view common_name,
                        const std::vector<std::string>& subject_alt_names, bool client = false);

  // Hands the key files to another user: PostgreSQL requires its key to be owned by the user
  // it runs as (mode 0600) or by root (mode 0640).
  void chown_keys(uid_t uid, gid_t gid) const;

 private:
  TempDir dir_{"portcullis-certs-"};
  CertificatePair ca_;
  CertificatePair server_;
  std::vector<std::filesystem::path> keys_;
};

}  // namespace portcullis::testing
