// The protocol switch an exec or attach request asks for, read from its headers.
#include "proto/kubernetes/exec_upgrade.h"

#include <fmt/format.h>

#include <boost/beast/core/string.hpp>

#include "proto/kubernetes/exec_stream.h"
#include "proto/kubernetes/header_list.h"
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

bool is_port_forward_subprotocol(std::string_view subprotocol) {
  return subprotocol == kPortForwardTunnel;
}

std::string port_forward_subprotocols(std::string_view offered) {
  return filter_header_list(offered, is_port_forward_subprotocol);
}

std::optional<std::string> unrelayable_forward_stream(const UpgradeRequest& request) {
  switch (exec_framing_of(request)) {
    case ExecFraming::websocket:
      if (port_forward_subprotocols(request[http::field::sec_websocket_protocol]).empty())
        return std::string(
            "port forwarding over WebSocket needs the subprotocol "
            "SPDY/3.1+portforward.k8s.io, which this client does not offer");
      return std::nullopt;
    case ExecFraming::spdy: {
      for (auto [field, end] = request.equal_range(kStreamProtocolHeader); field != end; ++field) {
        bool offered = false;
        filter_header_list(field->value(), [&offered](std::string_view entry) {
          offered = offered || entry == kPortForwardProtocol;
          return false;
        });
        if (offered) return std::nullopt;
      }
      return std::string(
          "port forwarding over SPDY needs the stream protocol portforward.k8s.io, which this "
          "client does not offer");
    }
    case ExecFraming::other:
      break;
  }
  return std::string(
      "port forwarding is relayed over WebSocket or SPDY/3.1; this client asked for neither");
}

}  // namespace portcullis::proto::kubernetes
