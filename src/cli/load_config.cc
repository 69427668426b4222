// Loading the configuration for a command: the problems go to stderr, one per line, and the
// command ends with status 2 (bad configuration), as INTERFACE.md specifies.
#include <fmt/format.h>

#include <array>
#include <cstdio>
#include <string_view>
#include <vector>

#include "cli/commands.h"
#include "config/front_ends.h"
#include "config/loader.h"
#include "masking/config_vocabulary.h"
#include "proto/front_ends.h"

namespace portcullis::cli {
namespace {

// The protocol front ends this gateway is built with (src/proto/front_ends.cc): a listener or
// connection of any other kind is refused at load time.
std::vector<std::string_view> built_front_ends() {
  std::vector<std::string_view> names;
  for (const auto& entry : proto::front_ends()) names.push_back(entry.protocol);
  return names;
}

}  // namespace

Result<config::ConfigPtr> load_checked_config(const std::filesystem::path& file) {
  auto config = config::load_config(file, masking::config_vocabulary());
  if (!config) return config;
  if (auto built = config::check_front_ends(**config, built_front_ends()); !built)
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
