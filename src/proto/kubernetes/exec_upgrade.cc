// The protocol switch an exec or attach request asks for, read from its headers.
#include "proto/kubernetes/exec_upgrade.h"

#include <fmt/format.h>

#include <boost/beast/core/string.hpp>

#include "proto/kubernetes/exec_stream.h"
#include "proto/kubernetes/spdy_exec_stream.h"

namespace portcullis::proto::kubernetes {

namespace beast = boost::beast;
namespace http = beast::http;

ExecFraming exec_framing_of(const UpgradeRequest& request) {
  const std::string_view upgrade = request[http::field::upgrade];
  if (beast::iequals(upgrade, "websocket")) return ExecFraming::websocket;
  if (beast::iequals(upgrade, "SPDY/3.1")) return ExecFraming::spdy;
  return ExecFraming::other;
}

std::vector<std::string> readable_spdy_protocols_of(const UpgradeRequest& request) {
  std::vector<std::string_view> offered;
  for (auto [field, end] = request.equal_range(kStreamProtocolHeader); field != end; ++field)
    offered.push_back(field->value());
  return readable_spdy_exec_protocols(offered);
}

std::optional<std::string> unrelayable_exec_stream(const UpgradeRequest& request,
                                                   std::string_view verb) {
  switch (exec_framing_of(request)) {
    case ExecFraming::websocket:
      if (readable_exec_subprotocols(request[http::field::sec_websocket_protocol]).empty())
        return fmt::format(
            "{} needs the stream protocol v5.channel.k8s.io or v4.channel.k8s.io, which this "
            "client does not offer",
            verb);
      return std::nullopt;
    case ExecFraming::spdy:
      if (readable_spdy_protocols_of(request).empty())
        return fmt::format(
            "{} over SPDY needs the stream protocol v5.channel.k8s.io or v4.channel.k8s.io, "
            "which this client does not offer",
            verb);
      return std::nullopt;
    case ExecFraming::other:
      break;
  }
  return fmt::format("{} is relayed over WebSocket or SPDY/3.1; this client asked for neither",
                     verb);
}

}  // namespace portcullis::proto::kubernetes
