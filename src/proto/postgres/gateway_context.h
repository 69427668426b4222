// GatewayContext: what every PostgreSQL session shares — one immutable snapshot of the
// configuration and of what was built from it (authenticator, TLS contexts).
#pragma once

#include <boost/asio/ssl/context.hpp>
#include <functional>
#include <map>
#include <memory>
#include <string>

#include "audit/journal.h"
#include "identity/authenticator.h"
#include "masking/masker.h"
#include "policy/access.h"
#include "policy/command.h"
#include "policy/config.h"
#include "policy/decision.h"

namespace portcullis::proto::postgres {

// The decision point as a session sees it. policy::decide by default.
using DecideFunction =
    std::function<policy::Decision(const policy::Config&, const identity::Identity&,
                                   const policy::Grant&, const policy::Command&)>;

struct GatewayContext {
  policy::ConfigPtr config;
  std::shared_ptr<const identity::Authenticator> authenticator;
  // Client-facing TLS; null when the configuration has no `tls` section.
  std::shared_ptr<boost::asio::ssl::context> client_tls;
  // Toward backends, by connection name; absent for connections with `tls: disable`.
  std::map<std::string, std::shared_ptr<boost::asio::ssl::context>, std::less<>> backend_tls;
  DecideFunction decide;
  // A masker per masking profile that masks anything, by profile name.
  std::map<std::string, std::shared_ptr<const masking::Masker>, std::less<>> maskers;
  // The audit journal: the same one in every snapshot. Null records nothing (tests of other
  // parts only; `serve` always has one).
  std::shared_ptr<audit::Journal> journal;

  const masking::Masker* masker(std::string_view profile) const {
    const auto it = maskers.find(profile);
    return it == maskers.end() ? nullptr : it->second.get();
  }
};

// Builds the TLS contexts and the decision function for a configuration snapshot.
Result<std::shared_ptr<const GatewayContext>> make_gateway_context(
    policy::ConfigPtr config, std::shared_ptr<const identity::Authenticator> authenticator,
    std::shared_ptr<audit::Journal> journal = nullptr);

}  // namespace portcullis::proto::postgres
