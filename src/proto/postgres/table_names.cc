// Catalog lookups of table names by OID.
#include "proto/postgres/table_names.h"

#include <fmt/format.h>

#include "proto/postgres/decoder.h"
#include "proto/postgres/encoder.h"

namespace portcullis::proto::postgres {
namespace {

namespace asio = boost::asio;

// A session that reads many tables still holds a bounded map.
constexpr std::size_t kMaxCachedTables = 1024;
// PostgreSQL's limit on a table's columns (MaxHeapAttributeNumber,
// src/include/access/htup_details.h).
constexpr int kMaxColumns = 1600;
// The catalog's answer is one small row per column.
constexpr std::size_t kMaxLookupMessage = 64 * 1024;

std::optional<std::string_view> text_value(std::string_view body, std::size_t index) {
  if (body.size() < 2) return std::nullopt;
  const std::size_t count = (std::size_t(uint8_t(body[0])) << 8) | uint8_t(body[1]);
  std::size_t at = 2;
  for (std::size_t i = 0; i < count; ++i) {
    if (body.size() - at < 4) return std::nullopt;
    const uint32_t length =
        (uint32_t(uint8_t(body[at])) << 24) | (uint32_t(uint8_t(body[at + 1])) << 16) |
        (uint32_t(uint8_t(body[at + 2])) << 8) | uint32_t(uint8_t(body[at + 3]));
    at += 4;
    if (length == 0xffffffffu) {
      if (i == index) return std::nullopt;
      continue;
    }
    if (body.size() - at < length) return std::nullopt;
    if (i == index) return body.substr(at, length);
    at += length;
  }
  return std::nullopt;
}

}  // namespace

const TableNames::Table* TableNames::find(uint32_t oid) const {
  const auto it = tables_.find(oid);
  return it == tables_.end() ? nullptr : &it->second;
}

void TableNames::close() {
  if (stream_) stream_->close();
  stream_.reset();
}

asio::awaitable<Result<void>> TableNames::look_up(std::vector<uint32_t> oids,
                                                  const BackendTarget& target) {
  if (!stream_) {
    ParameterList parameters{{"user", target.credentials->user},
                             {"database", target.connection->database},
                             {"application_name", "portcullis catalog lookup"}};
    auto outcome = co_await connect_backend(target, parameters);
    if (auto* failure = std::get_if<BackendFailure>(&outcome))
      co_return make_error("cannot open the catalog lookup connection: " + failure->message);
    stream_ = std::move(std::get<BackendConnection>(outcome).stream);
  }
  if (tables_.size() + oids.size() > kMaxCachedTables) tables_.clear();
  std::string list;
  for (auto oid : oids) list += fmt::format("{}{}", list.empty() ? "" : ",", oid);
  std::string query;
  MessageWriter(query)
      .begin('Q')
      .cstring(fmt::format("SELECT c.oid, c.relname, a.attnum, a.attname "
                           "FROM pg_catalog.pg_class c LEFT JOIN pg_catalog.pg_attribute a "
                           "ON a.attrelid = c.oid AND a.attnum > 0 "
                           "WHERE c.oid = ANY ('{{{}}}'::pg_catalog.oid[])",
                           list))
      .finish();
  if (auto [ec, n] = co_await stream_->write(asio::buffer(query)); ec) {
    close();
    co_return make_error("the catalog lookup connection failed: " + ec.message());
  }
  std::string buffer;
  std::string error;
  for (;;) {
    Message message;
    std::size_t consumed = 0;
    const auto status = decode_message(buffer, kMaxLookupMessage, message, consumed, error);
    if (status == DecodeStatus::invalid) {
      close();
      co_return make_error("the catalog lookup's answer cannot be read: " + error);
    }
    if (status == DecodeStatus::need_more) {
      char chunk[8192];
      auto [ec, n] = co_await stream_->read_some(asio::buffer(chunk));
      if (ec) {
        close();
        co_return make_error("the catalog lookup connection failed: " + ec.message());
      }
      buffer.append(chunk, n);
      continue;
    }
    const std::string body(message.body);
    const char type = message.type;
    buffer.erase(0, consumed);
    if (type == 'D') {
      const auto oid_text = text_value(body, 0);
      const auto name = text_value(body, 1);
      if (!oid_text || !name) continue;
      auto& table = tables_[static_cast<uint32_t>(std::stoul(std::string(*oid_text)))];
      table.name = *name;
      const auto attnum_text = text_value(body, 2);
      const auto column = text_value(body, 3);
      if (!attnum_text || !column) continue;  // a relation without columns
      const int attnum = std::stoi(std::string(*attnum_text));
      if (attnum <= 0 || attnum > kMaxColumns) continue;
      if (table.columns.size() < static_cast<std::size_t>(attnum))
        table.columns.resize(static_cast<std::size_t>(attnum));
      table.columns[static_cast<std::size_t>(attnum) - 1] = *column;
    } else if (type == 'E') {
      error = "the catalog lookup failed";
    } else if (type == 'Z') {
      break;
    }
  }
  if (!error.empty()) co_return make_error(error);
  // OIDs the catalog does not know (a dropped table) stay unknown as "".
  for (auto oid : oids) tables_.try_emplace(oid);
  co_return Result<void>{};
}

}  // namespace portcullis::proto::postgres
