// SPDY/3 header blocks: zlib against the SPDY dictionary, then counted, length-prefixed pairs.
#include "proto/kubernetes/spdy_header_block.h"

#include <fmt/format.h>

#include <array>
#include <stdexcept>

namespace portcullis::proto::kubernetes {

namespace {

uint32_t read_u32(std::string_view bytes) {
  return static_cast<uint32_t>(static_cast<uint8_t>(bytes[0])) << 24 |
         static_cast<uint32_t>(static_cast<uint8_t>(bytes[1])) << 16 |
         static_cast<uint32_t>(static_cast<uint8_t>(bytes[2])) << 8 |
         static_cast<uint32_t>(static_cast<uint8_t>(bytes[3]));
}

void append_u32(std::string& out, std::size_t value) {
  out += static_cast<char>((value >> 24) & 0xff);
  out += static_cast<char>((value >> 16) & 0xff);
  out += static_cast<char>((value >> 8) & 0xff);
  out += static_cast<char>(value & 0xff);
}

// The dictionary as the specification lays it out: 65 words, each after its length as 4 bytes,
// then one run of status codes, reason phrases, dates and common values.
std::string build_dictionary() {
  static constexpr std::array<std::string_view, 65> kWords{"options",
                                                           "head",
                                                           "post",
                                                           "put",
                                                           "delete",
                                                           "trace",
                                                           "accept",
                                                           "accept-charset",
                                                           "accept-encoding",
                                                           "accept-language",
                                                           "accept-ranges",
                                                           "age",
                                                           "allow",
                                                           "authorization",
                                                           "cache-control",
                                                           "connection",
                                                           "content-base",
                                                           "content-encoding",
                                                           "content-language",
                                                           "content-length",
                                                           "content-location",
                                                           "content-md5",
                                                           "content-range",
                                                           "content-type",
                                                           "date",
                                                           "etag",
                                                           "expect",
                                                           "expires",
                                                           "from",
                                                           "host",
                                                           "if-match",
                                                           "if-modified-since",
                                                           "if-none-match",
                                                           "if-range",
                                                           "if-unmodified-since",
                                                           "last-modified",
                                                           "location",
                                                           "max-forwards",
                                                           "pragma",
                                                           "proxy-authenticate",
                                                           "proxy-authorization",
                                                           "range",
                                                           "referer",
                                                           "retry-after",
                                                           "server",
                                                           "te",
                                                           "trailer",
                                                           "transfer-encoding",
                                                           "upgrade",
                                                           "user-agent",
                                                           "vary",
                                                           "via",
                                                           "warning",
                                                           "www-authenticate",
                                                           "method",
                                                           "get",
                                                           "status",
                                                           "200 OK",
                                                           "version",
                                                           "HTTP/1.1",
                                                           "url",
                                                           "public",
                                                           "set-cookie",
                                                           "keep-alive",
                                                           "origin"};
  static constexpr std::string_view kRun =
      "100101201202205206300302303304305306307402405406407408409410411412413414415416417502504505"
      "203 Non-Authoritative Information204 No Content301 Moved Permanently400 Bad Request401 "
      "Unauthorized403 Forbidden404 Not Found500 Internal Server Error501 Not Implemented503 "
      "Service UnavailableJan Feb Mar Apr May Jun Jul Aug Sept Oct Nov Dec 00:00:00 Mon, Tue, "
      "Wed, Thu, Fri, Sat, Sun, GMTchunked,text/html,image/png,image/jpg,image/gif,application/"
      "xml,application/xhtml+xml,text/plain,text/javascript,publicprivatemax-age=gzip,deflate,"
      "sdchcharset=utf-8charset=iso-8859-1,utf-,*,enq=0.";
  std::string dictionary;
  for (auto word : kWords) {
    append_u32(dictionary, word.size());
    dictionary += word;
  }
  dictionary += kRun;
  return dictionary;
}

}  // namespace

std::string_view spdy_header_dictionary() {
  static const std::string dictionary = build_dictionary();
  return dictionary;
}

SpdyHeaderReader::SpdyHeaderReader() {
  ready_ = inflateInit(&zlib_) == Z_OK;
}

SpdyHeaderReader::~SpdyHeaderReader() {
  if (ready_) inflateEnd(&zlib_);
}

Error SpdyHeaderReader::fail(std::string message) {
  failed_ = make_error("spdy header block: " + std::move(message));
  return *failed_;
}

Result<SpdyHeaders> SpdyHeaderReader::read(std::string_view compressed) {
  if (failed_) return *failed_;
  if (!ready_) return fail("zlib could not start");
  // Inflated into a buffer one byte larger than a block may be: filling it means too large.
  inflated_.resize(kMaxSpdyHeaderBlock + 1);
  zlib_.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(compressed.data()));
  zlib_.avail_in = static_cast<uInt>(compressed.size());
  zlib_.next_out = reinterpret_cast<Bytef*>(inflated_.data());
  zlib_.avail_out = static_cast<uInt>(inflated_.size());
  while (zlib_.avail_in > 0 && zlib_.avail_out > 0) {
    int status = inflate(&zlib_, Z_SYNC_FLUSH);
    if (status == Z_NEED_DICT) {
      const auto dictionary = spdy_header_dictionary();
      if (inflateSetDictionary(&zlib_, reinterpret_cast<const Bytef*>(dictionary.data()),
                               static_cast<uInt>(dictionary.size())) != Z_OK)
        return fail("compressed against another dictionary than SPDY/3's");
      continue;
    }
    if (status == Z_STREAM_END) return fail("the zlib stream ended");
    if (status != Z_OK && status != Z_BUF_ERROR)
      return fail(zlib_.msg != nullptr ? zlib_.msg : "zlib could not inflate it");
    if (status == Z_BUF_ERROR) break;
  }
  if (zlib_.avail_out == 0)
    return fail(fmt::format("more than {} bytes inflated", kMaxSpdyHeaderBlock));
  if (zlib_.avail_in > 0) return fail("it does not end where its frame does");
  const std::size_t size = inflated_.size() - zlib_.avail_out;
  std::string_view block(inflated_.data(), size);

  if (block.size() < 4) return fail("no count of pairs");
  const uint32_t pairs = read_u32(block);
  block.remove_prefix(4);
  if (pairs > kMaxSpdyHeaderPairs) return fail(fmt::format("{} pairs", pairs));
  SpdyHeaders headers;
  headers.reserve(pairs);
  auto take = [&block](std::string_view& out) {
    if (block.size() < 4) return false;
    const uint32_t length = read_u32(block);
    if (block.size() - 4 < length) return false;
    out = block.substr(4, length);
    block.remove_prefix(4 + static_cast<std::size_t>(length));
    return true;
  };
  for (uint32_t i = 0; i < pairs; ++i) {
    std::string_view name, value;
    if (!take(name) || !take(value)) return fail("a pair runs past its end");
    if (name.empty()) return fail("a pair with an empty name");
    headers.emplace_back(name, value);
  }
  if (!block.empty()) return fail("bytes after its last pair");
  return headers;
}

SpdyHeaderWriter::SpdyHeaderWriter() {
  if (deflateInit(&zlib_, Z_DEFAULT_COMPRESSION) != Z_OK)
    throw std::runtime_error("zlib could not start");
  const auto dictionary = spdy_header_dictionary();
  deflateSetDictionary(&zlib_, reinterpret_cast<const Bytef*>(dictionary.data()),
                       static_cast<uInt>(dictionary.size()));
}

SpdyHeaderWriter::~SpdyHeaderWriter() {
  deflateEnd(&zlib_);
}

std::string SpdyHeaderWriter::write(const SpdyHeaders& headers) {
  std::string block;
  append_u32(block, headers.size());
  for (const auto& [name, value] : headers) {
    append_u32(block, name.size());
    block += name;
    append_u32(block, value.size());
    block += value;
  }
  return compress(block);
}

std::string SpdyHeaderWriter::compress(std::string_view block) {
  std::string out;
  zlib_.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(block.data()));
  zlib_.avail_in = static_cast<uInt>(block.size());
  // A sync flush writes all it has once there is room for it.
  do {
    const std::size_t at = out.size();
    out.resize(at + block.size() + 1024);
    zlib_.next_out = reinterpret_cast<Bytef*>(out.data() + at);
    zlib_.avail_out = static_cast<uInt>(out.size() - at);
    deflate(&zlib_, Z_SYNC_FLUSH);
    out.resize(out.size() - zlib_.avail_out);
  } while (zlib_.avail_out == 0);
  return out;
}

}  // namespace portcullis::proto::kubernetes
