// Building a GatewayContext from a configuration snapshot.
#include "gateway/context.h"

#include <fmt/format.h>

#include "net/tls.h"
#include "policy/decide.h"

namespace portcullis::gateway {

Result<std::shared_ptr<const GatewayContext>> make_gateway_context(
    config::ConfigPtr config, std::shared_ptr<const identity::Authenticator> authenticator,
    GatewayServices services) {
  auto context = std::make_shared<GatewayContext>();
  context->journal = std::move(services.journal);
  context->reviews = std::move(services.reviews);
  context->live_sessions = std::move(services.live_sessions);
  context->ssh_ca = std::move(services.ssh_ca);
  context->metrics =
      services.metrics ? std::move(services.metrics) : std::make_shared<GatewayMetrics>();
  if (config->tls) {
    auto tls = net::make_server_tls_context(config->tls->cert_file, config->tls->key_file);
    if (!tls) return tls.error();
    context->client_tls = std::move(*tls);
  }
  // One unverified context serves every prefer/require connection; verify-full gets its own,
  // with the connection's CA.
  std::shared_ptr<boost::asio::ssl::context> unverified;
  for (const auto& connection : config->connections) {
    if (connection.kind == config::ConnectionKind::kubernetes) {
      for (const auto& [name, profile] : connection.credentials) {
        auto tls = net::make_client_tls_context(true, connection.kubernetes.ca_file);
        if (tls && !profile.client_cert_file.empty())
          tls = net::use_client_certificate(std::move(*tls), profile.client_cert_file,
                                            profile.client_key_file);
        if (!tls)
          return make_error(
              fmt::format("connection \"{}\": {}", connection.name, tls.error().message));
        context->kubernetes_tls.emplace(fmt::format("{}/{}", connection.name, name),
                                        std::move(*tls));
      }
      continue;
    }
    if (!config::is_database(connection.kind)) continue;
    if (connection.target.tls == config::BackendTlsMode::disable) continue;
    if (connection.target.tls == config::BackendTlsMode::verify_full) {
      auto tls = net::make_client_tls_context(true, connection.target.tls_ca_file);
      if (!tls)
        return make_error(
            fmt::format("connection \"{}\": {}", connection.name, tls.error().message));
      context->backend_tls.emplace(connection.name, std::move(*tls));
      continue;
    }
    if (!unverified) {
      auto tls = net::make_client_tls_context(false, {});
      if (!tls) return tls.error();
      unverified = std::move(*tls);
    }
    context->backend_tls.emplace(connection.name, unverified);
  }
  // Masking profiles are compiled once per snapshot (one Hyperscan database each).
  for (const auto& [name, profile] : config->masking.profiles) {
    auto masker = masking::Masker::build(profile, config->masking.hash_key);
    if (!masker)
      return make_error(fmt::format("masking profile \"{}\": {}", name, masker.error().message));
    if ((*masker)->active()) context->maskers.emplace(name, std::move(*masker));
  }
  context->config = std::move(config);
  context->authenticator = std::move(authenticator);
  context->decide = &policy::decide;
  return std::shared_ptr<const GatewayContext>(std::move(context));
}

}  // namespace portcullis::gateway
