// The MCP endpoint's session table.
#include "proto/mcp/session_table.h"

#include <fmt/format.h>
#include <openssl/rand.h>
#include <spdlog/spdlog.h>

#include <array>

namespace portcullis::proto::mcp {

namespace {

// 128 random bits in hex: a session id is a bearer of nothing (every request carries its
// credential too), but must not be guessable across subjects either.
Result<std::string> new_session_id() {
  std::array<unsigned char, 16> bytes{};
  if (RAND_bytes(bytes.data(), static_cast<int>(bytes.size())) != 1)
    return make_error("no random bytes for a session id");
  std::string id;
  for (auto byte : bytes) fmt::format_to(std::back_inserter(id), "{:02x}", byte);
  return id;
}

}  // namespace

void McpSession::close() {
  for (auto& [name, connection] : databases) connection->close();
  for (auto& [name, connection] : mysql_databases) connection->close();
  for (auto& [name, connection] : hosts) connection->close();
  for (auto& [name, connection] : clusters) connection->close();
  databases.clear();
  addresses.clear();
  mysql_databases.clear();
  hosts.clear();
  clusters.clear();
}

Result<std::shared_ptr<McpSession>> SessionTable::create(
    std::string subject, std::string protocol_version, std::chrono::steady_clock::time_point now) {
  expire(now);
  std::size_t own = 0;
  std::shared_ptr<McpSession> oldest;
  for (const auto& [id, session] : sessions_) {
    if (session->subject != subject) continue;
    ++own;
    if (session->calls == 0 && (!oldest || session->last_used < oldest->last_used))
      oldest = session;
  }
  if (own >= limits_.max_per_subject) {
    if (!oldest)
      return make_error(fmt::format("{} MCP sessions of this subject are busy; end one first",
                                    limits_.max_per_subject));
    spdlog::info("event=mcp_session_end session={} subject={:?} reason=\"replaced by a new one\"",
                 oldest->id, oldest->subject);
    remove(oldest->id);
  }
  if (sessions_.size() >= limits_.max_sessions)
    return make_error("too many MCP sessions; try again later");
  auto id = new_session_id();
  if (!id) return id.error();
  auto session = std::make_shared<McpSession>();
  session->id = *id;
  session->subject = std::move(subject);
  session->protocol_version = std::move(protocol_version);
  session->last_used = now;
  sessions_.emplace(*id, session);
  return session;
}

std::shared_ptr<McpSession> SessionTable::find(std::string_view id,
                                               std::chrono::steady_clock::time_point now) {
  expire(now);
  const auto it = sessions_.find(id);
  if (it == sessions_.end()) return nullptr;
  it->second->last_used = now;
  return it->second;
}

void SessionTable::remove(std::string_view id) {
  const auto it = sessions_.find(id);
  if (it == sessions_.end()) return;
  it->second->close();
  sessions_.erase(it);
}

void SessionTable::close_all() {
  for (auto& [id, session] : sessions_) session->close();
  sessions_.clear();
}

void SessionTable::expire(std::chrono::steady_clock::time_point now) {
  for (auto it = sessions_.begin(); it != sessions_.end();) {
    if (it->second->calls == 0 && now - it->second->last_used > limits_.idle) {
      spdlog::info("event=mcp_session_end session={} subject={:?} reason=\"idle for {}s\"",
                   it->first, it->second->subject, limits_.idle.count());
      it->second->close();
      it = sessions_.erase(it);
    } else {
      ++it;
    }
  }
}

}  // namespace portcullis::proto::mcp
