// `portcullis check-config`: validates the configuration without starting anything, so that
// a change can be checked before SIGHUP or a deploy.
#include <fmt/format.h>

#include <cstddef>
#include <string>
#include <string_view>

#include "cli/commands.h"

namespace portcullis::cli {
namespace {

std::string count(std::size_t n, std::string_view one, std::string_view many) {
  return fmt::format("{} {}", n, n == 1 ? one : many);
}

}  // namespace

void add_check_config_command(CLI::App& app, GlobalOptions& options) {
  CLI::App* command = app.add_subcommand(
      "check-config", "validate the configuration; print each problem as FILE:LINE: message");
  command->callback([&options] {
    const config::ConfigPtr config = load_config_or_exit(options);
    fmt::print("{}: ok ({}, {}, {}, {})\n", options.config_path,
               count(config->connections.size(), "connection", "connections"),
               count(config->access.size(), "access rule", "access rules"),
               count(config->guardrails.size(), "guardrail", "guardrails"),
               count(config->masking.profiles.size(), "masking profile", "masking profiles"));
  });
}

}  // namespace portcullis::cli
