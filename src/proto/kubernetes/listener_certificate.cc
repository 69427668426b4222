// Making and loading the Kubernetes listener's own certificate.
#include "proto/kubernetes/listener_certificate.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <openssl/bn.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <unistd.h>

#include <boost/asio/ip/address.hpp>
#include <cstdio>
#include <memory>

#include "net/tls.h"

namespace portcullis::proto::kubernetes {
namespace {

constexpr long kValidSeconds = 10L * 365 * 24 * 3600;

struct FreeKey {
  void operator()(EVP_PKEY* key) const { EVP_PKEY_free(key); }
};
struct FreeCertificate {
  void operator()(X509* certificate) const { X509_free(certificate); }
};
struct FreeBio {
  void operator()(BIO* bio) const { BIO_free(bio); }
};

std::string openssl_error() {
  const unsigned long code = ERR_get_error();
  if (code == 0) return "unknown error";
  char text[256];
  ERR_error_string_n(code, text, sizeof text);
  return text;
}

bool add_extension(X509* certificate, int nid, const std::string& value) {
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, certificate, certificate, nullptr, nullptr, 0);
  X509_EXTENSION* extension = X509V3_EXT_conf_nid(nullptr, &ctx, nid, value.c_str());
  if (!extension) return false;
  const bool added = X509_add_ext(certificate, extension, -1) == 1;
  X509_EXTENSION_free(extension);
  return added;
}

// The names kubectl may use for the listener: its address as configured, and loopback.
std::string subject_alt_names(const std::string& host) {
  std::string names = "DNS:localhost,IP:127.0.0.1,IP:::1";
  if (host.empty() || host == "localhost" || host == "127.0.0.1" || host == "::1") return names;
  boost::system::error_code ec;
  const auto address = boost::asio::ip::make_address(host, ec);
  if (!ec && !address.is_unspecified()) return fmt::format("{},IP:{}", names, host);
  if (ec) return fmt::format("{},DNS:{}", names, host);
  return names;  // 0.0.0.0 or ::: the clients' name for it is not known here
}

Result<std::string> make_certificate_pem(const std::string& host) {
  std::unique_ptr<EVP_PKEY, FreeKey> key(EVP_EC_gen("P-256"));
  std::unique_ptr<X509, FreeCertificate> certificate(X509_new());
  if (!key || !certificate) return make_error("cannot make a key: " + openssl_error());
  X509* c = certificate.get();
  unsigned char serial[16];
  if (RAND_bytes(serial, sizeof serial) != 1) return make_error("no randomness");
  serial[0] &= 0x7f;  // a positive serial number
  BIGNUM* number = BN_bin2bn(serial, sizeof serial, nullptr);
  const bool ok = X509_set_version(c, X509_VERSION_3) == 1 && number != nullptr &&
                  BN_to_ASN1_INTEGER(number, X509_get_serialNumber(c)) != nullptr &&
                  X509_gmtime_adj(X509_getm_notBefore(c), -3600) != nullptr &&
                  X509_gmtime_adj(X509_getm_notAfter(c), kValidSeconds) != nullptr &&
                  X509_NAME_add_entry_by_txt(
                      X509_get_subject_name(c), "CN", MBSTRING_ASC,
                      reinterpret_cast<const unsigned char*>("portcullis kubernetes listener"), -1,
                      -1, 0) == 1 &&
                  X509_set_issuer_name(c, X509_get_subject_name(c)) == 1 &&
                  X509_set_pubkey(c, key.get()) == 1 &&
                  add_extension(c, NID_subject_alt_name, subject_alt_names(host)) &&
                  add_extension(c, NID_basic_constraints, "critical,CA:TRUE") &&
                  add_extension(c, NID_key_usage, "critical,digitalSignature,keyCertSign") &&
                  add_extension(c, NID_ext_key_usage, "serverAuth") &&
                  X509_sign(c, key.get(), EVP_sha256()) > 0;
  BN_free(number);
  if (!ok) return make_error("cannot make the certificate: " + openssl_error());
  std::unique_ptr<BIO, FreeBio> out(BIO_new(BIO_s_mem()));
  if (!out || PEM_write_bio_X509(out.get(), c) != 1 ||
      PEM_write_bio_PrivateKey(out.get(), key.get(), nullptr, nullptr, 0, nullptr, nullptr) != 1)
    return make_error("cannot write the certificate: " + openssl_error());
  char* data = nullptr;
  const long size = BIO_get_mem_data(out.get(), &data);
  return std::string(data, static_cast<std::size_t>(size));
}

Result<void> write_owner_only(const std::filesystem::path& file, const std::string& pem) {
  std::error_code ec;
  std::filesystem::create_directories(file.parent_path(), ec);
  const std::string temporary = file.string() + ".tmp";
  const int fd = ::open(temporary.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) return make_error(fmt::format("cannot create {}", temporary));
  const bool written =
      ::write(fd, pem.data(), pem.size()) == static_cast<ssize_t>(pem.size()) && ::fsync(fd) == 0;
  ::close(fd);
  if (!written || std::rename(temporary.c_str(), file.c_str()) != 0) {
    ::unlink(temporary.c_str());
    return make_error(fmt::format("cannot write {}", file.string()));
  }
  return {};
}

}  // namespace

std::filesystem::path listener_certificate_file(const config::Config& config) {
  return config.identity.signing_key_file.parent_path() / "kubernetes_listener.pem";
}

Result<std::shared_ptr<boost::asio::ssl::context>> load_or_create_listener_tls(
    const std::filesystem::path& file, const std::string& listen_host) {
  std::error_code ec;
  if (!std::filesystem::exists(file, ec)) {
    auto pem = make_certificate_pem(listen_host);
    if (!pem) return pem.error();
    if (auto written = write_owner_only(file, *pem); !written) return written.error();
  }
  return net::make_server_tls_context(file, file);
}

Result<std::shared_ptr<boost::asio::ssl::context>> make_in_process_tls() {
  auto pem = make_certificate_pem("localhost");
  if (!pem) return pem.error();
  auto context = std::make_shared<boost::asio::ssl::context>(boost::asio::ssl::context::tls_server);
  SSL_CTX* native = context->native_handle();
  SSL_CTX_set_min_proto_version(native, TLS1_2_VERSION);
  // No session cache and no tickets, as the listener's (net/tls.cc): the client never resumes.
  SSL_CTX_set_options(native, SSL_OP_NO_COMPRESSION | SSL_OP_NO_RENEGOTIATION | SSL_OP_NO_TICKET);
  SSL_CTX_set_session_cache_mode(native, SSL_SESS_CACHE_OFF);
  SSL_CTX_set_num_tickets(native, 0);
  boost::system::error_code ec;
  context->use_certificate_chain(boost::asio::buffer(*pem), ec);
  if (!ec) context->use_private_key(boost::asio::buffer(*pem), boost::asio::ssl::context::pem, ec);
  OPENSSL_cleanse(pem->data(), pem->size());
  if (ec) return make_error("cannot load the in-process certificate: " + ec.message());
  return context;
}

}  // namespace portcullis::proto::kubernetes
