// GatewayContext: what every session of every front end shares — one immutable snapshot of
// the configuration and of what was built from it (authenticator, TLS contexts, maskers),
// with the services that outlive snapshots (journal, reviews, live sessions, metrics).
#pragma once

#include <atomic>
#include <boost/asio/ssl/context.hpp>
#include <functional>
#include <map>
#include <memory>
#include <string>

#include "audit/journal.h"
#include "common/gateway_metrics.h"
#include "config/config.h"
#include "gateway/live_sessions.h"
#include "identity/authenticator.h"
#include "identity/ssh_certificate_authority.h"
#include "masking/masker.h"
#include "policy/access.h"
#include "policy/command.h"
#include "policy/decision.h"
#include "review/reviews.h"

namespace portcullis::gateway {

// The decision point as a session sees it. policy::decide by default.
using DecideFunction =
    std::function<policy::Decision(const config::Config&, const identity::Identity&,
                                   const policy::Grant&, const policy::Command&)>;

struct GatewayContext {
  config::ConfigPtr config;
  std::shared_ptr<const identity::Authenticator> authenticator;
  // Client-facing TLS; null when the configuration has no `tls` section.
  std::shared_ptr<boost::asio::ssl::context> client_tls;
  // Toward backends, by connection name; absent for connections with `tls: disable`.
  std::map<std::string, std::shared_ptr<boost::asio::ssl::context>, std::less<>> backend_tls;
  // Toward Kubernetes API servers, by "CONNECTION/PROFILE": the connection's CA, and the
  // profile's client certificate when it logs in with one.
  std::map<std::string, std::shared_ptr<boost::asio::ssl::context>, std::less<>> kubernetes_tls;
  DecideFunction decide;
  // A masker per masking profile that masks anything, by profile name.
  std::map<std::string, std::shared_ptr<const masking::Masker>, std::less<>> maskers;
  // The audit journal: the same one in every snapshot. Null records nothing (tests of other
  // parts only; `serve` always has one).
  std::shared_ptr<audit::Journal> journal;
  // The approval workflow and the live-session registry: the same in every snapshot. Without
  // `reviews`, a review verdict refuses the statement (nothing could release it).
  std::shared_ptr<review::Reviews> reviews;
  std::shared_ptr<gateway::LiveSessions> live_sessions;
  std::shared_ptr<GatewayMetrics> metrics;  // never null
  // The SSH user CA whose certificates the SSH listener accepts; null when unavailable.
  std::shared_ptr<const identity::SshCertificateAuthority> ssh_ca;

  const masking::Masker* masker(std::string_view profile) const {
    const auto it = maskers.find(profile);
    return it == maskers.end() ? nullptr : it->second.get();
  }
};

// Builds the TLS contexts and the decision function for a configuration snapshot.
// What lives across snapshots and every snapshot shares.
struct GatewayServices {
  std::shared_ptr<audit::Journal> journal;
  std::shared_ptr<review::Reviews> reviews;
  std::shared_ptr<gateway::LiveSessions> live_sessions;
  std::shared_ptr<GatewayMetrics> metrics;  // made when not given
  std::shared_ptr<const identity::SshCertificateAuthority> ssh_ca;
};

// Where a session finds the snapshot in force: front ends swap it on reload, sessions re-read
// it before each command.
using ContextSource = std::atomic<std::shared_ptr<const GatewayContext>>;

Result<std::shared_ptr<const GatewayContext>> make_gateway_context(
    config::ConfigPtr config, std::shared_ptr<const identity::Authenticator> authenticator,
    GatewayServices services = {});

}  // namespace portcullis::gateway
