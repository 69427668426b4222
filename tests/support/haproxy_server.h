// A real HAProxy per test in front of several gateway instances: TCP load balancing on a free
// loopback port, with HTTP health checks against each instance's REST API so that an instance
// that died or reports itself unavailable is taken out of rotation within about a second.
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "child_process.h"
#include "temp_dir.h"

namespace portcullis::testing {

// One server of the backend: where clients are sent, and where its health is probed.
struct HaproxyBackendServer {
  std::string name;  // as the stats show it: letters, digits, '-', '_', '.'
  uint16_t port = 0;
  uint16_t health_port = 0;  // GET /api/v1/health here; 0: no health check
};

class HaproxyServer {
 public:
  // Writes the configuration, starts `haproxy -db` and waits until its port accepts
  // connections. Throws std::runtime_error with HAProxy's output on failure.
  explicit HaproxyServer(std::vector<HaproxyBackendServer> servers);
  // Stops HAProxy and removes its directory.
  ~HaproxyServer();

  HaproxyServer(const HaproxyServer&) = delete;
  HaproxyServer& operator=(const HaproxyServer&) = delete;

  uint16_t port() const { return port_; }
  std::string host() const { return "127.0.0.1"; }
  const std::filesystem::path& config_file() const { return config_file_; }
  // What HAProxy printed: alerts, and each server going up or down.
  std::string log_text() const;

  // Each server's status as the stats socket reports it ("UP", "DOWN", "UP 1/2", "MAINT", ...);
  // empty when the socket does not answer.
  std::map<std::string, std::string> server_states() const;
  // Waits until `server`'s status is exactly `status` ("UP" or "DOWN"). False on timeout.
  bool wait_for_state(const std::string& server, std::string_view status,
                      std::chrono::milliseconds timeout = std::chrono::seconds(30)) const;

 private:
  std::string render() const;
  // One command on the stats socket, and the whole answer.
  std::optional<std::string> stats_command(std::string_view command) const;

  std::vector<HaproxyBackendServer> servers_;
  TempDir dir_{"portcullis-haproxy-"};
  std::filesystem::path config_file_;
  std::filesystem::path stats_socket_;
  uint16_t port_ = 0;
  std::optional<ChildProcess> process_;
};

}  // namespace portcullis::testing
