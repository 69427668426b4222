// The SSH wire encoding (RFC 4251 section 5) of keys, certificates and signatures, and the
// standard base64 that authorized_keys lines and key files wrap them in. Pure.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace portcullis::identity::ssh {

class WireWriter {
 public:
  WireWriter& u32(uint32_t value);
  WireWriter& u64(uint64_t value);
  // A string: its length (uint32) and its bytes.
  WireWriter& string(std::string_view bytes);
  // Bytes as they are, without a length.
  WireWriter& raw(std::string_view bytes);
  const std::string& bytes() const { return out_; }
  std::string take() { return std::move(out_); }

 private:
  std::string out_;
};

// Reads fields in order; the first field that runs past the end makes ok() false and every
// later read return zero or empty.
class WireReader {
 public:
  explicit WireReader(std::string_view bytes) : in_(bytes) {}
  uint32_t u32();
  uint64_t u64();
  std::string_view string();
  bool ok() const { return ok_; }
  bool at_end() const { return in_.empty(); }
  // What has been read so far is bytes [0, consumed()) of the input.
  std::size_t consumed() const { return consumed_; }

 private:
  std::string_view take(std::size_t n);
  std::string_view in_;
  std::size_t consumed_ = 0;
  bool ok_ = true;
};

std::string base64_encode(std::string_view bytes);
// Strict: the standard alphabet with its padding; nothing else (no whitespace).
std::optional<std::string> base64_decode(std::string_view text);

}  // namespace portcullis::identity::ssh
