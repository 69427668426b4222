// Canonical form, hash and JSON of journal records.
#include "audit/record.h"

#include <fmt/format.h>
#include <openssl/evp.h>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>
#include <stdexcept>

namespace portcullis::audit {

const std::string kGenesisHash(64, '0');

std::string canonical_form(const Record& record) {
  std::size_t size = 96;
  for (const auto& value : record.fields) size += 24 + (value ? value->size() : 0);
  std::string out;
  out.reserve(size);
  out += "portcullis-audit-v1\n";
  out += "prev_hash:";
  out += record.prev_hash;
  out += '\n';
  for (std::size_t i = 0; i < kFieldCount; ++i) {
    out += field_info(static_cast<Field>(i)).name;
    const auto& value = record.fields[i];
    if (!value) {
      out += ":~\n";
      continue;
    }
    fmt::format_to(std::back_inserter(out), ":{}:", value->size());
    out += *value;
    out += '\n';
  }
  return out;
}

std::string sha256_hex(std::string_view bytes) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  if (EVP_Digest(bytes.data(), bytes.size(), digest, &length, EVP_sha256(), nullptr) != 1)
    throw std::runtime_error("SHA-256 failed");
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out(length * 2, '0');
  for (unsigned int i = 0; i < length; ++i) {
    out[2 * i] = kHex[digest[i] >> 4];
    out[2 * i + 1] = kHex[digest[i] & 0xf];
  }
  return out;
}

std::string record_hash(const Record& record) {
  return sha256_hex(canonical_form(record));
}

std::string to_json(const Record& record) {
  boost::json::object object;
  for (std::size_t i = 0; i < kFieldCount; ++i) {
    const auto& value = record.fields[i];
    if (!value) continue;
    const auto& info = field_info(static_cast<Field>(i));
    switch (info.type) {
      case FieldType::text:
        object[info.name] = *value;
        break;
      case FieldType::integer: {
        std::int64_t number = 0;
        try {
          number = std::stoll(*value);
        } catch (const std::exception&) {
          object[info.name] = *value;  // a tampered record still prints as it is stored
          break;
        }
        object[info.name] = number;
        break;
      }
      case FieldType::json: {
        boost::system::error_code ec;
        auto parsed = boost::json::parse(*value, ec);
        if (ec)
          object[info.name] = *value;
        else
          object[info.name] = std::move(parsed);
        break;
      }
    }
  }
  object["prev_hash"] = record.prev_hash;
  object["hash"] = record.hash;
  return boost::json::serialize(object);
}

}  // namespace portcullis::audit
