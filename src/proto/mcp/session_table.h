// SessionTable: the MCP sessions (Mcp-Session-Id) of the endpoint, bounded and expiring.
// A session belongs to the subject that initialized it, holds its open connections (one
// session of the gateway's front end per connection name), and ends when idle too long,
// when its client deletes it, or when one of its connections is ended by a kill or a
// revocation. Used on the MCP endpoint's thread only.
#pragma once

#include <chrono>
#include <map>
#include <memory>
#include <string>
#include <string_view>

#include "common/result.h"
#include "proto/mcp/kubernetes_tool_session.h"
#include "proto/mcp/mysql_tool_session.h"
#include "proto/mcp/postgres_tool_session.h"
#include "proto/mcp/ssh_tool_session.h"

namespace portcullis::proto::mcp {

struct McpSession {
  std::string id;
  std::string subject;
  std::string protocol_version;
  std::chrono::steady_clock::time_point last_used;
  // Calls running now: a session in use is never evicted as idle.
  std::size_t calls = 0;
  // SHA-256 of the credential the connections below were opened with: a request with
  // another (a refreshed token, another API key of the subject) closes them first, so that
  // no connection outlives the grant of the credential that opened it.
  std::string credential_digest;
  // Calls running now on each connection: one in use is never replaced as idle.
  std::map<std::string, std::size_t, std::less<>> calls_on;
  // Open connections by name, one map per kind of tool session.
  std::map<std::string, std::shared_ptr<PostgresToolSession>, std::less<>> databases;
  std::map<std::string, std::shared_ptr<MysqlToolSession>, std::less<>> mysql_databases;
  std::map<std::string, std::shared_ptr<SshToolSession>, std::less<>> hosts;
  std::map<std::string, std::shared_ptr<KubernetesToolSession>, std::less<>> clusters;

  // The client address of the tool session open to each connection (HoldProbe, the journal),
  // and when a call last used it (limits.idle_timeout).
  std::map<std::string, std::string, std::less<>> addresses;
  std::map<std::string, std::chrono::steady_clock::time_point, std::less<>> used;

  std::size_t open_connections() const {
    return databases.size() + mysql_databases.size() + hosts.size() + clusters.size();
  }

  void close();
};

struct SessionLimits {
  std::size_t max_sessions = 1024;
  std::size_t max_per_subject = 16;
  std::chrono::seconds idle{30 * 60};
};

class SessionTable {
 public:
  explicit SessionTable(SessionLimits limits) : limits_(limits) {}
  ~SessionTable() { close_all(); }

  // A new session for `subject`. At the subject's cap its least recently used idle session
  // is closed to make room (an agent restarted without deleting its session); at the
  // table's cap, refused.
  Result<std::shared_ptr<McpSession>> create(std::string subject, std::string protocol_version,
                                             std::chrono::steady_clock::time_point now);
  // The live session with this id, its idle clock restarted; null when unknown or expired.
  std::shared_ptr<McpSession> find(std::string_view id, std::chrono::steady_clock::time_point now);
  void remove(std::string_view id);
  void close_all();
  std::size_t size() const { return sessions_.size(); }

 private:
  void expire(std::chrono::steady_clock::time_point now);

  SessionLimits limits_;
  std::map<std::string, std::shared_ptr<McpSession>, std::less<>> sessions_;
};

}  // namespace portcullis::proto::mcp
