// OpenSSH public key lines, fingerprints, Ed25519 keys and signatures in SSH form.
#include "identity/ssh_keys.h"

#include <fmt/format.h>
#include <openssl/sha.h>

#include <array>

#include "identity/claims.h"
#include "identity/openssl_ptr.h"
#include "identity/ssh_wire.h"

namespace portcullis::identity::ssh {
namespace {

constexpr std::size_t kEd25519SignatureSize = 64;
// OpenSSH wraps the base64 of a private key file at 70 characters.
constexpr std::size_t kPrivateKeyLineWidth = 70;
// Cipher "none" pads the private section to 8 bytes.
constexpr std::size_t kPrivateBlockSize = 8;

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() &&
         (s.back() == ' ' || s.back() == '\t' || s.back() == '\n' || s.back() == '\r'))
    s.remove_suffix(1);
  return s;
}

}  // namespace

Result<PublicKey> parse_public_key_line(std::string_view line) {
  line = trim(line);
  const std::size_t space = line.find_first_of(" \t");
  if (space == std::string_view::npos)
    return Error{"an SSH public key is \"TYPE BASE64 [COMMENT]\""};
  const std::string_view type = line.substr(0, space);
  std::string_view rest = trim(line.substr(space + 1));
  const std::string_view encoded = rest.substr(0, rest.find_first_of(" \t"));
  auto blob = base64_decode(encoded);
  if (!blob || blob->empty()) return Error{"the SSH public key's base64 cannot be read"};
  WireReader reader(*blob);
  const std::string_view inner = reader.string();
  if (!reader.ok() || inner != type)
    return Error{fmt::format("the SSH public key says it is {} but holds another type",
                             quote_untrusted(type))};
  return PublicKey{.type = std::string(type), .blob = std::move(*blob)};
}

std::string public_key_line(const PublicKey& key, std::string_view comment) {
  std::string line = key.type + ' ' + base64_encode(key.blob);
  if (!comment.empty()) {
    line += ' ';
    line += comment;
  }
  return line;
}

std::string fingerprint(std::string_view blob) {
  std::array<unsigned char, SHA256_DIGEST_LENGTH> digest{};
  SHA256(reinterpret_cast<const unsigned char*>(blob.data()), blob.size(), digest.data());
  std::string encoded =
      base64_encode(std::string_view(reinterpret_cast<const char*>(digest.data()), digest.size()));
  while (!encoded.empty() && encoded.back() == '=') encoded.pop_back();
  return "SHA256:" + encoded;
}

Result<std::string> ed25519_public_blob(EVP_PKEY* key) {
  std::array<unsigned char, kEd25519KeySize> raw{};
  std::size_t length = raw.size();
  if (!key || EVP_PKEY_get_id(key) != EVP_PKEY_ED25519 ||
      EVP_PKEY_get_raw_public_key(key, raw.data(), &length) != 1 || length != raw.size())
    return Error{"not an Ed25519 key"};
  WireWriter w;
  w.string(kEd25519).string(std::string_view(reinterpret_cast<const char*>(raw.data()), length));
  return w.take();
}

Result<std::shared_ptr<EVP_PKEY>> ed25519_key_from_blob(std::string_view blob) {
  WireReader reader(blob);
  const std::string_view type = reader.string();
  const std::string_view raw = reader.string();
  if (!reader.ok() || !reader.at_end() || type != kEd25519 || raw.size() != kEd25519KeySize)
    return Error{"not an ssh-ed25519 public key"};
  EvpPkeyPtr key(EVP_PKEY_new_raw_public_key(
      EVP_PKEY_ED25519, nullptr, reinterpret_cast<const unsigned char*>(raw.data()), raw.size()));
  if (!key) return Error{"the ssh-ed25519 public key is not a valid key"};
  return share_pkey(std::move(key));
}

Result<std::string> ed25519_signature_blob(EVP_PKEY* key, std::string_view data) {
  EvpMdCtxPtr ctx(EVP_MD_CTX_new());
  std::array<unsigned char, kEd25519SignatureSize> signature{};
  std::size_t length = signature.size();
  if (!ctx || EVP_DigestSignInit(ctx.get(), nullptr, nullptr, nullptr, key) != 1 ||
      EVP_DigestSign(ctx.get(), signature.data(), &length,
                     reinterpret_cast<const unsigned char*>(data.data()), data.size()) != 1 ||
      length != signature.size())
    return Error{"the Ed25519 signature could not be made"};
  WireWriter w;
  w.string(kEd25519).string(
      std::string_view(reinterpret_cast<const char*>(signature.data()), length));
  return w.take();
}

bool ed25519_signature_verifies(EVP_PKEY* key, std::string_view signature_blob,
                                std::string_view data) {
  WireReader reader(signature_blob);
  const std::string_view type = reader.string();
  const std::string_view signature = reader.string();
  if (!reader.ok() || !reader.at_end() || type != kEd25519 ||
      signature.size() != kEd25519SignatureSize)
    return false;
  EvpMdCtxPtr ctx(EVP_MD_CTX_new());
  return ctx && EVP_DigestVerifyInit(ctx.get(), nullptr, nullptr, nullptr, key) == 1 &&
         EVP_DigestVerify(ctx.get(), reinterpret_cast<const unsigned char*>(signature.data()),
                          signature.size(), reinterpret_cast<const unsigned char*>(data.data()),
                          data.size()) == 1;
}

Result<Secret> openssh_private_key(EVP_PKEY* key, std::string_view comment, uint32_t check) {
  std::array<unsigned char, kEd25519KeySize> seed{};
  std::size_t seed_length = seed.size();
  if (!key || EVP_PKEY_get_id(key) != EVP_PKEY_ED25519 ||
      EVP_PKEY_get_raw_private_key(key, seed.data(), &seed_length) != 1 ||
      seed_length != seed.size())
    return Error{"not an Ed25519 private key"};
  auto public_blob = ed25519_public_blob(key);
  if (!public_blob) return public_blob.error();
  WireReader blob_reader(*public_blob);
  (void)blob_reader.string();
  const std::string_view public_raw = blob_reader.string();

  // The private section: the check value twice, the key (OpenSSH keeps the seed followed by
  // the public key as its 64-byte "private key"), the comment, then padding 1, 2, 3...
  std::string secret_key(reinterpret_cast<const char*>(seed.data()), seed.size());
  secret_key.append(public_raw);
  WireWriter section;
  section.u32(check)
      .u32(check)
      .string(kEd25519)
      .string(public_raw)
      .string(secret_key)
      .string(comment);
  std::string private_section = section.take();
  for (char pad = 1; private_section.size() % kPrivateBlockSize != 0; ++pad)
    private_section.push_back(pad);
  OPENSSL_cleanse(secret_key.data(), secret_key.size());
  OPENSSL_cleanse(seed.data(), seed.size());

  WireWriter file;
  file.raw(std::string_view("openssh-key-v1\0", 15))
      .string("none")
      .string("none")
      .string("")
      .u32(1)
      .string(*public_blob)
      .string(private_section);
  OPENSSL_cleanse(private_section.data(), private_section.size());
  std::string binary = file.take();
  const std::string encoded = base64_encode(binary);
  OPENSSL_cleanse(binary.data(), binary.size());
  std::string pem = "-----BEGIN OPENSSH PRIVATE KEY-----\n";
  for (std::size_t i = 0; i < encoded.size(); i += kPrivateKeyLineWidth) {
    pem.append(encoded, i, kPrivateKeyLineWidth);
    pem.push_back('\n');
  }
  pem += "-----END OPENSSH PRIVATE KEY-----\n";
  return Secret(std::move(pem));
}

}  // namespace portcullis::identity::ssh
