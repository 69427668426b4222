// SSH wire encoding and base64.
#include "identity/ssh_wire.h"

#include <openssl/evp.h>

namespace portcullis::identity::ssh {

WireWriter& WireWriter::u32(uint32_t value) {
  for (int shift = 24; shift >= 0; shift -= 8) out_.push_back(static_cast<char>(value >> shift));
  return *this;
}

WireWriter& WireWriter::u64(uint64_t value) {
  u32(static_cast<uint32_t>(value >> 32));
  return u32(static_cast<uint32_t>(value));
}

WireWriter& WireWriter::string(std::string_view bytes) {
  u32(static_cast<uint32_t>(bytes.size()));
  out_.append(bytes);
  return *this;
}

WireWriter& WireWriter::raw(std::string_view bytes) {
  out_.append(bytes);
  return *this;
}

std::string_view WireReader::take(std::size_t n) {
  if (!ok_ || n > in_.size()) {
    ok_ = false;
    in_ = {};
    return {};
  }
  std::string_view out = in_.substr(0, n);
  in_.remove_prefix(n);
  consumed_ += n;
  return out;
}

uint32_t WireReader::u32() {
  const std::string_view b = take(4);
  if (b.size() != 4) return 0;
  uint32_t value = 0;
  for (char c : b) value = (value << 8) | static_cast<unsigned char>(c);
  return value;
}

uint64_t WireReader::u64() {
  const uint64_t high = u32();
  return (high << 32) | u32();
}

std::string_view WireReader::string() {
  const uint32_t length = u32();
  return take(length);
}

std::string base64_encode(std::string_view bytes) {
  std::string out(4 * ((bytes.size() + 2) / 3), '\0');
  const int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                reinterpret_cast<const unsigned char*>(bytes.data()),
                                static_cast<int>(bytes.size()));
  out.resize(static_cast<std::size_t>(n));
  return out;
}

std::optional<std::string> base64_decode(std::string_view text) {
  if (text.size() % 4 != 0) return std::nullopt;
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    const bool alphabet = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
                          (c >= '0' && c <= '9') || c == '+' || c == '/';
    // '=' only as the last one or two characters.
    const bool padding =
        c == '=' && i + 2 >= text.size() && (i + 1 == text.size() || text[i + 1] == '=');
    if (!alphabet && !padding) return std::nullopt;
  }
  std::string out(3 * (text.size() / 4), '\0');
  const int n = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                reinterpret_cast<const unsigned char*>(text.data()),
                                static_cast<int>(text.size()));
  if (n < 0) return std::nullopt;
  // EVP_DecodeBlock counts the padding as zero bytes.
  std::size_t length = static_cast<std::size_t>(n);
  if (!text.empty() && text.back() == '=') --length;
  if (text.size() >= 2 && text[text.size() - 2] == '=') --length;
  out.resize(length);
  return out;
}

}  // namespace portcullis::identity::ssh
