// Loading the configuration for a command: the problems go to stderr, one per line, and the
// command ends with status 2 (bad configuration), as INTERFACE.md specifies.
#include <fmt/format.h>

#include <array>
#include <cstdio>
#include <string_view>

#include "cli/commands.h"
#include "config/front_ends.h"
#include "config/loader.h"
#include "masking/config_vocabulary.h"

namespace portcullis::cli {
namespace {

// The protocol front ends this gateway is built with: a listener or connection of any other
// kind is refused at load time.
constexpr std::array<std::string_view, 1> kBuiltFrontEnds{"postgres"};

}  // namespace

Result<config::ConfigPtr> load_checked_config(const std::filesystem::path& file) {
  auto config = config::load_config(file, masking::config_vocabulary());
  if (!config) return config;
  if (auto built = config::check_front_ends(**config, kBuiltFrontEnds); !built)
    return built.error();
  return config;
}

config::ConfigPtr load_config_or_exit(const GlobalOptions& options) {
  auto config = load_checked_config(options.config_path);
  if (!config) {
    std::fflush(stdout);
    fmt::print(stderr, "{}\n", config.error().message);
    throw CommandExit{2};
  }
  return std::move(config).value();
}

}  // namespace portcullis::cli
