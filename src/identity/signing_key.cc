// Loading, creating and fingerprinting the gateway's Ed25519 token signing key.
#include "identity/signing_key.h"

#include <errno.h>
#include <fcntl.h>
#include <fmt/format.h>
#include <openssl/pem.h>
#include <openssl/sha.h>
#include <sys/stat.h>
#include <unistd.h>

#include <array>
#include <cstring>
#include <system_error>

#include "identity/base64url.h"
#include "identity/openssl_ptr.h"

namespace portcullis::identity {
namespace {

// A PEM Ed25519 PKCS#8 key is about 120 bytes; anything much larger is not a key file.
constexpr std::size_t kMaxKeyFileSize = 64 * 1024;
// Characters of the base64url thumbprint kept as the kid: 96 bits, plenty to tell keys apart.
constexpr std::size_t kKeyIdLength = 16;

// Never prompt for a passphrase on a terminal: an encrypted key file is simply refused.
int no_passphrase(char*, int, int, void*) {
  return -1;
}

std::string errno_text(int error) {
  return std::error_code(error, std::generic_category()).message();
}

Result<std::string> thumbprint_key_id(EVP_PKEY* key) {
  std::array<unsigned char, 32> raw{};
  std::size_t length = raw.size();
  if (EVP_PKEY_get_raw_public_key(key, raw.data(), &length) != 1 || length != raw.size())
    return make_error("cannot read the signing key's public part");
  // RFC 7638 section 3.2 (members in lexicographic order, no whitespace), RFC 8037 for OKP.
  const std::string jwk = fmt::format(
      R"({{"crv":"Ed25519","kty":"OKP","x":"{}"}})",
      base64url_encode(std::string_view(reinterpret_cast<const char*>(raw.data()), length)));
  std::array<unsigned char, SHA256_DIGEST_LENGTH> digest{};
  SHA256(reinterpret_cast<const unsigned char*>(jwk.data()), jwk.size(), digest.data());
  return base64url_encode(
             std::string_view(reinterpret_cast<const char*>(digest.data()), digest.size()))
      .substr(0, kKeyIdLength);
}

// false: the file already exists (another process created it first).
Result<bool> write_new_key_file(const std::filesystem::path& file, const SigningKey& key) {
  std::error_code ec;
  if (file.has_parent_path()) {
    std::filesystem::create_directories(file.parent_path(), ec);
    if (ec)
      return make_error(fmt::format("cannot create folder {} for the signing key: {}",
                                    file.parent_path().string(), ec.message()));
  }
  auto pem = key.to_pem();
  if (!pem) return pem.error();
  // O_EXCL: never replace a key that another process created meanwhile; 0600 from the start,
  // so the key is never readable by others, not even for an instant.
  const int fd = ::open(file.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0) {
    const int error = errno;
    if (error == EEXIST) return false;
    return make_error(
        fmt::format("cannot create signing key file {}: {}", file.string(), errno_text(error)));
  }
  const std::string& text = pem->reveal();
  std::size_t written = 0;
  while (written < text.size()) {
    const ssize_t n = ::write(fd, text.data() + written, text.size() - written);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      const int error = errno;
      ::close(fd);
      ::unlink(file.c_str());
      return make_error(
          fmt::format("cannot write signing key file {}: {}", file.string(), errno_text(error)));
    }
    written += static_cast<std::size_t>(n);
  }
  const bool synced = ::fsync(fd) == 0;
  const int sync_error = errno;
  if (::close(fd) != 0 || !synced) {
    const int error = synced ? errno : sync_error;
    ::unlink(file.c_str());
    return make_error(
        fmt::format("cannot write signing key file {}: {}", file.string(), errno_text(error)));
  }
  return true;
}

}  // namespace

Result<SigningKey> SigningKey::wrap(EVP_PKEY* key) {
  EvpPkeyPtr owned(key);
  if (!owned || !EVP_PKEY_is_a(owned.get(), "ED25519"))
    return make_error("not an Ed25519 private key");
  auto kid = thumbprint_key_id(owned.get());
  if (!kid) return kid.error();
  return SigningKey(share_pkey(std::move(owned)), std::move(*kid));
}

Result<SigningKey> SigningKey::generate() {
  EVP_PKEY* key = EVP_PKEY_Q_keygen(nullptr, nullptr, "ED25519");
  if (key == nullptr) return make_error("cannot generate an Ed25519 key");
  return wrap(key);
}

Result<SigningKey> SigningKey::from_pem(const Secret& pem) {
  const std::string& text = pem.reveal();
  BioPtr bio(BIO_new_mem_buf(text.data(), static_cast<int>(text.size())));
  if (!bio) return make_error("cannot read the signing key");
  EVP_PKEY* key = PEM_read_bio_PrivateKey(bio.get(), nullptr, no_passphrase, nullptr);
  if (key == nullptr) return make_error("not a PEM private key (PKCS#8, unencrypted)");
  return wrap(key);
}

Result<Secret> SigningKey::to_pem() const {
  BioPtr bio(BIO_new(BIO_s_mem()));
  if (!bio ||
      PEM_write_bio_PrivateKey(bio.get(), key_.get(), nullptr, nullptr, 0, nullptr, nullptr) != 1)
    return make_error("cannot encode the signing key");
  char* data = nullptr;
  const long length = BIO_get_mem_data(bio.get(), &data);
  Secret pem(std::string(data, static_cast<std::size_t>(length)));
  OPENSSL_cleanse(data, static_cast<std::size_t>(length));
  return pem;
}

Result<SigningKey> load_signing_key(const std::filesystem::path& file, bool create_if_missing) {
  if (file.empty()) return make_error("no signing key file configured (identity.signing_key_file)");
  int fd = ::open(file.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0 && errno == ENOENT) {
    if (!create_if_missing)
      return make_error(fmt::format("signing key file {} does not exist", file.string()));
    auto key = SigningKey::generate();
    if (!key) return key.error();
    auto created = write_new_key_file(file, *key);
    if (!created) return created.error();
    if (*created) return key;
    // Lost a race with another process creating it: use theirs.
    fd = ::open(file.c_str(), O_RDONLY | O_CLOEXEC);
  }
  if (fd < 0) {
    const int error = errno;
    return make_error(
        fmt::format("cannot open signing key file {}: {}", file.string(), errno_text(error)));
  }
  struct stat st {};
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    ::close(fd);
    return make_error(fmt::format("signing key file {} is not a regular file", file.string()));
  }
  if ((st.st_mode & (S_IRWXG | S_IRWXO)) != 0) {
    ::close(fd);
    return make_error(fmt::format(
        "signing key file {} is accessible by group or others (mode {:04o}); run: chmod 600 {}",
        file.string(), st.st_mode & 07777, file.string()));
  }
  if (static_cast<std::size_t>(st.st_size) > kMaxKeyFileSize) {
    ::close(fd);
    return make_error(fmt::format("signing key file {} is too large to be a key", file.string()));
  }
  std::string text(static_cast<std::size_t>(st.st_size), '\0');
  std::size_t got = 0;
  while (got < text.size()) {
    const ssize_t n = ::read(fd, text.data() + got, text.size() - got);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    got += static_cast<std::size_t>(n);
  }
  ::close(fd);
  text.resize(got);
  auto key = SigningKey::from_pem(Secret(std::move(text)));
  if (!key)
    return make_error(fmt::format("signing key file {}: {}", file.string(), key.error().message));
  return key;
}

}  // namespace portcullis::identity
