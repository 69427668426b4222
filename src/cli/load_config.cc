// Loading the configuration for a command: the problems go to stderr, one per line, and the
// command ends with status 2 (bad configuration), as INTERFACE.md specifies.
#include <fmt/format.h>

#include <cstdio>

#include "cli/commands.h"
#include "policy/config_loader.h"

namespace portcullis::cli {

policy::ConfigPtr load_config_or_exit(const GlobalOptions& options) {
  auto config = policy::load_config(options.config_path);
  if (!config) {
    std::fflush(stdout);
    fmt::print(stderr, "{}\n", config.error().message);
    throw CommandExit{2};
  }
  return std::move(config).value();
}

}  // namespace portcullis::cli
