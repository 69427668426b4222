// `listen`: where the gateway accepts clients, one listener per protocol front end plus the
// REST API, and the rule that a listener beyond loopback needs TLS.
#include <fmt/format.h>

#include "config/sections.h"

namespace portcullis::config {
namespace {

constexpr std::string_view kDefaultPostgresListenHost = "127.0.0.1";
constexpr uint16_t kDefaultPostgresListenPort = 15432;

// Every front-end protocol a listener may be written for, whether or not this gateway is
// built with it (check_front_ends decides that).
constexpr std::array<ConnectionKind, 4> kFrontEndProtocols{
    ConnectionKind::postgres, ConnectionKind::mysql, ConnectionKind::ssh,
    ConnectionKind::kubernetes};

}  // namespace

void read_listen(Reader& r, const Value* v, ListenConfig& listen) {
  if (v != nullptr) {
    Fields f = r.fields(*v, {"postgres", "mysql", "ssh", "kubernetes", "http"});
    // Port 0 lets the system choose, which tests use to avoid collisions.
    for (ConnectionKind protocol : kFrontEndProtocols) {
      const std::string_view name = to_string(protocol);
      if (const Value* p = f.find(name)) {
        if (auto endpoint = r.read_endpoint(*p, true))
          listen.front_ends.emplace(std::string(name), std::move(*endpoint));
      }
    }
    if (const Value* h = f.find("http")) listen.http = r.read_endpoint(*h, true);
    // A listener written but unreadable is a problem already reported, not a reason to add
    // the default one.
    for (ConnectionKind protocol : kFrontEndProtocols)
      if (f.find(to_string(protocol)) != nullptr) return;
  }
  listen.front_ends.emplace("postgres", Endpoint{.host = std::string(kDefaultPostgresListenHost),
                                                 .port = kDefaultPostgresListenPort});
}

void check_listeners(Reader& r, const Config& config, const Value* listen, const Value* tls) {
  if (tls != nullptr) return;
  const int line = listen ? listen->line : 0;
  auto check = [&](std::string_view name, const Endpoint& endpoint) {
    if (is_loopback(endpoint.host)) return;
    r.problem(line, fmt::format("listen.{}: {} is not a loopback address, so a tls section "
                                "(cert_file, key_file) is required",
                                name, endpoint.host));
  };
  for (const auto& [name, endpoint] : config.listen.front_ends) {
    // SSH encrypts itself: its listener needs no TLS section.
    if (name == "ssh") continue;
    check(name, endpoint);
  }
  if (config.listen.http) check("http", *config.listen.http);
}

}  // namespace portcullis::config
