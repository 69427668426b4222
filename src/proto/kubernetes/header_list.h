// Comma-separated header values (Accept, Sec-WebSocket-Protocol) narrowed to the entries the
// gateway can pass on. Pure.
#pragma once

#include <string>
#include <string_view>

namespace portcullis::proto::kubernetes {

// The entries of `list` (spaces and tabs around each trimmed, empty ones dropped) for which
// `keep(entry)` holds, joined with ", "; empty when none is kept.
template <typename Keep>
std::string filter_header_list(std::string_view list, Keep keep) {
  std::string kept;
  while (!list.empty()) {
    const auto comma = list.find(',');
    std::string_view entry = list.substr(0, comma);
    list = comma == std::string_view::npos ? std::string_view() : list.substr(comma + 1);
    while (!entry.empty() && (entry.front() == ' ' || entry.front() == '\t'))
      entry.remove_prefix(1);
    while (!entry.empty() && (entry.back() == ' ' || entry.back() == '\t')) entry.remove_suffix(1);
    if (entry.empty() || !keep(entry)) continue;
    if (!kept.empty()) kept += ", ";
    kept += entry;
  }
  return kept;
}

}  // namespace portcullis::proto::kubernetes
