// Configuration, start-up, the stats socket and shutdown of a test HAProxy.
#include "haproxy_server.h"

#include <arpa/inet.h>
#include <fmt/core.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstring>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <thread>

#include "free_port.h"

namespace portcullis::testing {

namespace {

// Absolute: Debian installs it in /usr/sbin, which a test's PATH may lack.
constexpr std::string_view kHaproxy = "/usr/sbin/haproxy";

// Start-up is a few milliseconds; a loaded CI machine can be much slower.
constexpr auto kHaproxyStartTimeout = std::chrono::seconds(30);
constexpr auto kHaproxyStopTimeout = std::chrono::seconds(10);

// Probing every 500 ms and giving up on an instance after two failed probes takes a dead or
// unavailable instance out within about a second, and brings it back as fast once it answers.
constexpr std::string_view kCheckInterval = "500ms";
constexpr int kFallCount = 2;
constexpr int kRiseCount = 2;

// Database sessions stay idle for long stretches (a statement held for review waits up to
// minutes); the proxy must not end them on its own.
constexpr std::string_view kIdleTimeout = "1h";

bool accepts_connections(uint16_t port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return false;
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  address.sin_port = htons(port);
  const bool ok = ::connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0;
  ::close(fd);
  return ok;
}

std::vector<std::string> split_csv_line(const std::string& line) {
  std::vector<std::string> fields;
  std::string field;
  std::istringstream in(line);
  while (std::getline(in, field, ',')) fields.push_back(field);
  return fields;
}

}  // namespace

HaproxyServer::HaproxyServer(std::vector<HaproxyBackendServer> servers)
    : servers_(std::move(servers)) {
  port_ = free_tcp_port();
  config_file_ = dir_ / "haproxy.cfg";
  stats_socket_ = dir_ / "stats.sock";
  std::ofstream(config_file_) << render();

  const auto log_file = dir_ / "haproxy.log";
  ChildOptions child;
  // -db: stay in the foreground, so that the test owns the process and its exit.
  child.argv = {std::string(kHaproxy), "-db", "-f", config_file_.string()};
  child.stdout_file = log_file;
  child.stderr_file = log_file;
  process_.emplace(std::move(child));

  const auto deadline = std::chrono::steady_clock::now() + kHaproxyStartTimeout;
  while (!accepts_connections(port_)) {
    if (!process_->running() || std::chrono::steady_clock::now() > deadline) {
      throw std::runtime_error(fmt::format("haproxy did not start on port {}:\n{}\n{}", port_,
                                           log_text(), read_text_file(config_file_)));
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
}

HaproxyServer::~HaproxyServer() {
  if (process_ && process_->running()) process_->terminate(kHaproxyStopTimeout);
}

std::string HaproxyServer::log_text() const {
  return read_text_file(dir_ / "haproxy.log");
}

std::string HaproxyServer::render() const {
  std::string out = fmt::format(
      "global\n"
      "  maxconn 1000\n"
      "  stats socket {socket} mode 600 level admin\n"
      "defaults\n"
      "  mode tcp\n"
      // A connection sent to an instance that died before the probes noticed is tried once
      // more on another one, as a production balancer would.
      "  retries 2\n"
      "  option redispatch 1\n"
      "  timeout connect 2s\n"
      "  timeout check 1s\n"
      "  timeout client {idle}\n"
      "  timeout server {idle}\n"
      "frontend gateways\n"
      "  bind 127.0.0.1:{port}\n"
      "  default_backend instances\n"
      "backend instances\n"
      "  balance roundrobin\n"
      "  option httpchk GET /api/v1/health\n"
      // A session on an instance taken out ends with it, rather than hanging on a dead peer.
      "  default-server inter {inter} fall {fall} rise {rise} on-marked-down shutdown-sessions\n",
      fmt::arg("socket", stats_socket_.string()), fmt::arg("idle", kIdleTimeout),
      fmt::arg("port", port_), fmt::arg("inter", kCheckInterval), fmt::arg("fall", kFallCount),
      fmt::arg("rise", kRiseCount));
  for (const auto& server : servers_) {
    out += fmt::format("  server {} 127.0.0.1:{}", server.name, server.port);
    if (server.health_port != 0) out += fmt::format(" check port {}", server.health_port);
    out += "\n";
  }
  return out;
}

std::optional<std::string> HaproxyServer::stats_command(std::string_view command) const {
  sockaddr_un address{};
  address.sun_family = AF_UNIX;
  const std::string path = stats_socket_.string();
  if (path.size() >= sizeof address.sun_path) return std::nullopt;
  std::memcpy(address.sun_path, path.c_str(), path.size() + 1);
  const int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return std::nullopt;
  const timeval timeout{5, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0) {
    ::close(fd);
    return std::nullopt;
  }
  // Without "prompt" HAProxy answers one command and closes the connection.
  const std::string request = std::string(command) + "\n";
  if (::write(fd, request.data(), request.size()) != static_cast<ssize_t>(request.size())) {
    ::close(fd);
    return std::nullopt;
  }
  std::string answer;
  char buffer[4096];
  for (;;) {
    const ssize_t n = ::read(fd, buffer, sizeof buffer);
    if (n <= 0) break;
    answer.append(buffer, static_cast<std::size_t>(n));
  }
  ::close(fd);
  return answer;
}

std::map<std::string, std::string> HaproxyServer::server_states() const {
  std::map<std::string, std::string> states;
  const auto answer = stats_command("show stat");
  if (!answer) return states;
  std::istringstream lines(*answer);
  std::string line;
  // "# pxname,svname,...,status,...": the columns are found by name, not position.
  if (!std::getline(lines, line) || !line.starts_with("# ")) return states;
  const auto header = split_csv_line(line.substr(2));
  std::size_t proxy_column = header.size(), name_column = header.size(),
              status_column = header.size();
  for (std::size_t i = 0; i < header.size(); ++i) {
    if (header[i] == "pxname") proxy_column = i;
    if (header[i] == "svname") name_column = i;
    if (header[i] == "status") status_column = i;
  }
  while (std::getline(lines, line)) {
    const auto fields = split_csv_line(line);
    if (fields.size() <= status_column || fields.size() <= name_column ||
        fields.size() <= proxy_column || fields[proxy_column] != "instances")
      continue;
    if (fields[name_column] == "BACKEND" || fields[name_column] == "FRONTEND") continue;
    states[fields[name_column]] = fields[status_column];
  }
  return states;
}

bool HaproxyServer::wait_for_state(const std::string& server, std::string_view status,
                                   std::chrono::milliseconds timeout) const {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    const auto states = server_states();
    if (const auto it = states.find(server); it != states.end() && it->second == status)
      return true;
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
}

}  // namespace portcullis::testing
