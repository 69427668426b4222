// Canonical form, hash and JSON of journal records.
#include "audit/record.h"

#include <fmt/format.h>
#include <openssl/evp.h>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>
#include <charconv>
#include <stdexcept>

namespace portcullis::audit {

const std::string kGenesisHash(64, '0');

namespace {

constexpr char kHex[] = "0123456789abcdef";

// SHA-256 fetched from the provider once. EVP_sha256() passed to EVP_Digest makes OpenSSL 3
// fetch the algorithm again on every call (a lookup under a lock): a third of the journal
// writer's SHA-256 time in a profile (docs/benchmarks.md, "Profile and fix").
const EVP_MD* sha256_md() {
  static EVP_MD* const md = EVP_MD_fetch(nullptr, "SHA256", nullptr);
  if (md == nullptr) throw std::runtime_error("SHA-256 is not available from OpenSSL");
  return md;
}

std::string hex(const unsigned char* digest, unsigned int length) {
  std::string out(length * 2, '0');
  for (unsigned int i = 0; i < length; ++i) {
    out[2 * i] = kHex[digest[i] >> 4];
    out[2 * i + 1] = kHex[digest[i] & 0xf];
  }
  return out;
}

}  // namespace

void append_canonical_form(const Record& record, std::string& out) {
  std::size_t size = out.size() + 96;
  for (const auto& value : record.fields) size += 24 + (value ? value->size() : 0);
  out.reserve(size);
  out += "portcullis-audit-v1\n";
  out += "prev_hash:";
  out += record.prev_hash;
  out += '\n';
  for (std::size_t i = 0; i < kFieldCount; ++i) {
    const auto& value = record.fields[i];
    // A field appended since the first format is left out when absent, so that the records
    // written before it existed hash as they always did.
    if (!value && i >= kOriginalFieldCount) continue;
    out += field_info(static_cast<Field>(i)).name;
    if (!value) {
      out += ":~\n";
      continue;
    }
    // ":<length>:" without fmt: this runs 29 times per record on the writer thread.
    char length[24];
    length[0] = ':';
    char* end = std::to_chars(length + 1, length + sizeof length - 1, value->size()).ptr;
    *end++ = ':';
    out.append(length, end);
    out += *value;
    out += '\n';
  }
}

std::string canonical_form(const Record& record) {
  std::string out;
  append_canonical_form(record, out);
  return out;
}

std::string sha256_hex(std::string_view bytes) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  if (EVP_Digest(bytes.data(), bytes.size(), digest, &length, sha256_md(), nullptr) != 1)
    throw std::runtime_error("SHA-256 failed");
  return hex(digest, length);
}

std::int64_t seq_of(const Record& record) {
  std::int64_t seq = 0;
  if (const auto& text = record[Field::seq])
    std::from_chars(text->data(), text->data() + text->size(), seq);
  return seq;
}

std::string record_hash(const Record& record) {
  return sha256_hex(canonical_form(record));
}

struct RecordHasher::Context {
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  ~Context() { EVP_MD_CTX_free(ctx); }
};

RecordHasher::RecordHasher() : context_(std::make_unique<Context>()) {
  if (context_->ctx == nullptr) throw std::runtime_error("cannot allocate a digest context");
}

RecordHasher::~RecordHasher() = default;

std::string RecordHasher::hash(const Record& record) {
  canonical_.clear();
  append_canonical_form(record, canonical_);
  return sha256_hex(canonical_);
}

std::string RecordHasher::sha256_hex(std::string_view bytes) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  EVP_MD_CTX* ctx = context_->ctx;
  if (EVP_DigestInit_ex(ctx, sha256_md(), nullptr) != 1 ||
      EVP_DigestUpdate(ctx, bytes.data(), bytes.size()) != 1 ||
      EVP_DigestFinal_ex(ctx, digest, &length) != 1)
    throw std::runtime_error("SHA-256 failed");
  return hex(digest, length);
}

std::string to_json(const Record& record) {
  boost::json::object object;
  const auto put = [&](std::size_t i) {
    const auto& value = record.fields[i];
    if (!value) return;
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
  };
  // The credential beside `auth`, where a reader looks for who logged in and how: JSON order
  // is for reading only (the hash is over the canonical form).
  for (std::size_t i = 0; i < kOriginalFieldCount; ++i) {
    put(i);
    if (static_cast<Field>(i) == Field::auth) put(static_cast<std::size_t>(Field::credential));
  }
  static_assert(kFieldCount == kOriginalFieldCount + 1, "place each appended field in to_json");
  object["prev_hash"] = record.prev_hash;
  object["hash"] = record.hash;
  return boost::json::serialize(object);
}

}  // namespace portcullis::audit
