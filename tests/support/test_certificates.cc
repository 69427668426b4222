// Certificate generation with the openssl CLI, so that tests exercise the same PEM files an
// operator would produce.
#include "test_certificates.h"

#include <fmt/core.h>
#include <fmt/ranges.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <stdexcept>

#include "child_process.h"

namespace portcullis::testing {

namespace {

// Long enough for any test run, short enough that a leaked key is worthless.
constexpr int kValidityDays = 2;

void openssl(std::vector<std::string> args) {
  args.insert(args.begin(), "openssl");
  RunResult result = run_command(std::move(args), {}, std::chrono::seconds(60));
  if (!result.ok()) throw std::runtime_error("openssl failed: " + result.describe());
}

// P-256 keys: generated instantly, accepted by PostgreSQL, libpq and OpenSSL 3.
std::vector<std::string> new_key_args(const std::filesystem::path& key) {
  return {"-newkey", "ec",      "-pkeyopt",  "ec_paramgen_curve:prime256v1",
          "-nodes",  "-keyout", key.string()};
}

void restrict_key(const std::filesystem::path& key) {
  std::filesystem::permissions(
      key, std::filesystem::perms::owner_read | std::filesystem::perms::owner_write);
}

}  // namespace

TestCertificates::TestCertificates() {
  ca_ = {dir_ / "ca.crt", dir_ / "ca.key"};
  std::vector<std::string> args = {"req", "-x509"};
  for (auto& arg : new_key_args(ca_.key_file)) args.push_back(arg);
  args.insert(args.end(),
              {"-out", ca_.cert_file.string(), "-days", std::to_string(kValidityDays), "-subj",
               "/CN=Portcullis Test CA", "-addext", "basicConstraints=critical,CA:TRUE", "-addext",
               "keyUsage=critical,keyCertSign,cRLSign"});
  openssl(std::move(args));
  restrict_key(ca_.key_file);
  keys_.push_back(ca_.key_file);
  server_ = issue("server", "localhost", {"DNS:localhost", "IP:127.0.0.1"});
}

CertificatePair TestCertificates::issue(std::string_view name, std::string_view common_name,
                                        const std::vector<std::string>& subject_alt_names,
                                        bool client) {
  CertificatePair pair{dir_ / fmt::format("{}.crt", name), dir_ / fmt::format("{}.key", name)};
  std::filesystem::path request = dir_ / fmt::format("{}.csr", name);
  std::filesystem::path extensions = dir_ / fmt::format("{}.ext", name);

  std::vector<std::string> args = {"req", "-new"};
  for (auto& arg : new_key_args(pair.key_file)) args.push_back(arg);
  args.insert(args.end(), {"-out", request.string(), "-subj", fmt::format("/CN={}", common_name)});
  openssl(std::move(args));
  restrict_key(pair.key_file);
  keys_.push_back(pair.key_file);

  {
    std::ofstream out(extensions);
    out << "basicConstraints = CA:FALSE\n";
    out << "keyUsage = critical, digitalSignature, keyEncipherment\n";
    out << "extendedKeyUsage = " << (client ? "clientAuth" : "serverAuth") << "\n";
    if (!subject_alt_names.empty()) {
      out << "subjectAltName = " << fmt::format("{}", fmt::join(subject_alt_names, ", ")) << "\n";
    }
  }
  openssl({"x509", "-req", "-in", request.string(), "-CA", ca_.cert_file.string(), "-CAkey",
           ca_.key_file.string(), "-CAcreateserial", "-out", pair.cert_file.string(), "-days",
           std::to_string(kValidityDays), "-sha256", "-extfile", extensions.string()});
  return pair;
}

void TestCertificates::chown_keys(uid_t uid, gid_t gid) const {
  for (const auto& key : keys_) {
    if (::chown(key.c_str(), uid, gid) != 0) {
      throw std::runtime_error(fmt::format("chown {}: {}", key.string(), std::strerror(errno)));
    }
  }
}

}  // namespace portcullis::testing
