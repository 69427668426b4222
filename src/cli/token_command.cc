// `portcullis token issue`: prints a gateway-signed token, alone on stdout, so that
// TOKEN=$(portcullis token issue ...) works.
#include <fmt/format.h>

#include <chrono>
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "cli/api_client.h"
#include "cli/commands.h"
#include "config/units.h"
#include "identity/gateway_token.h"
#include "identity/signing_key.h"

namespace portcullis::cli {
namespace {

struct TokenIssueArgs {
  std::string subject;
  std::vector<std::string> groups;
  std::string ttl;
  bool service = false;
};

void run_token_issue(const GlobalOptions& options, const TokenIssueArgs& args) {
  const config::ConfigPtr config = load_config_or_exit(options);
  const auto& identity_config = config->identity;

  std::chrono::milliseconds ttl = identity_config.default_token_ttl;
  if (!args.ttl.empty()) {
    auto parsed = config::parse_duration(args.ttl);
    if (!parsed) fail(2, "--ttl: " + parsed.error().message);
    ttl = *parsed;
  }
  if (ttl <= std::chrono::milliseconds::zero()) fail(2, "--ttl must be longer than zero");
  if (ttl > identity_config.max_token_ttl)
    fail(2, fmt::format("--ttl {} is longer than identity.max_token_ttl ({})",
                        config::format_duration(ttl),
                        config::format_duration(identity_config.max_token_ttl)));

  auto key = identity::load_signing_key(identity_config.signing_key_file, true);
  if (!key) fail(1, key.error().message);

  identity::TokenRequest request;
  request.subject = args.subject;
  request.groups = args.groups;
  request.kind = args.service ? identity::SubjectKind::service : identity::SubjectKind::user;
  request.ttl = ttl;
  auto token = identity::issue_gateway_token(*key, identity_config.issuer, request,
                                             std::chrono::system_clock::now());
  if (!token) fail(1, token.error().message);
  // The one place a token is meant to be shown: to the operator who asked for it.
  fmt::print("{}\n", token->reveal());
  std::fflush(stdout);
}

}  // namespace

void add_token_command(CLI::App& app, GlobalOptions& options) {
  auto* token = app.add_subcommand("token", "Gateway-signed tokens");
  token->require_subcommand(1);

  auto args = std::make_shared<TokenIssueArgs>();
  auto* issue = token->add_subcommand("issue", "Print a gateway-signed token (EdDSA JWT)");
  issue->add_option("--subject", args->subject, "Who the token is for (the database user)")
      ->required();
  issue->add_option("--group", args->groups, "A group of the subject; repeat for several");
  issue->add_option("--ttl", args->ttl,
                    "Lifetime, e.g. 15m, 8h, 30d (default identity.default_token_ttl)");
  issue->add_flag("--service", args->service, "Issue for a service account, not a person");
  issue->callback([&options, args] { run_token_issue(options, *args); });
}

}  // namespace portcullis::cli
