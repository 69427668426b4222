// check_front_ends: a protocol written in the configuration but not built into this gateway is
// refused at load time, with its line, rather than when the first client comes.
#include "config/front_ends.h"

#include <fmt/format.h>

#include <algorithm>
#include <string>
#include <utility>
#include <vector>

namespace portcullis::config {

Result<void> check_front_ends(const Config& config, std::span<const std::string_view> built) {
  auto is_built = [&](std::string_view protocol) {
    return std::find(built.begin(), built.end(), protocol) != built.end();
  };
  std::vector<std::pair<int, std::string>> problems;
  for (const auto& [protocol, endpoint] : config.listen.front_ends) {
    if (is_built(protocol)) continue;
    problems.emplace_back(endpoint.line,
                          fmt::format("listen.{}: the {} front end is not built into this "
                                      "gateway yet",
                                      protocol, protocol));
  }
  for (const auto& connection : config.connections) {
    const std::string_view kind = to_string(connection.kind);
    if (is_built(kind)) continue;
    problems.emplace_back(connection.line,
                          fmt::format("connection \"{}\": kind {} is not built into this "
                                      "gateway yet",
                                      connection.name, kind));
  }
  if (problems.empty()) return {};
  std::stable_sort(problems.begin(), problems.end(),
                   [](const auto& a, const auto& b) { return a.first < b.first; });
  const std::string file = config.source_file.string();
  std::string out;
  for (const auto& [line, message] : problems) {
    if (!out.empty()) out += '\n';
    out += line > 0 ? fmt::format("{}:{}: {}", file, line, message)
                    : fmt::format("{}: {}", file, message);
  }
  return make_error(std::move(out));
}

}  // namespace portcullis::config
