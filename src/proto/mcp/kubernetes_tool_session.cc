// Placeholder until the in-process HTTPS client lands: every call is refused.
#include "proto/mcp/kubernetes_tool_session.h"

namespace portcullis::proto::mcp {

struct KubernetesToolSession::State {};

KubernetesToolSession::KubernetesToolSession(std::unique_ptr<State> state)
    : state_(std::move(state)) {}
KubernetesToolSession::~KubernetesToolSession() = default;

boost::asio::awaitable<std::variant<std::shared_ptr<KubernetesToolSession>, ToolError>>
KubernetesToolSession::open(boost::asio::any_io_executor, Adopt, std::string, HoldProbe) {
  co_return ToolError{.code = {}, .message = "the kubernetes tool is not available", .detail = {}};
}

boost::asio::awaitable<std::variant<KubernetesAnswer, ToolError>> KubernetesToolSession::run(
    const Secret&, KubernetesRequest, std::size_t) {
  co_return ToolError{.code = {}, .message = "the kubernetes tool is not available", .detail = {}};
}

bool KubernetesToolSession::ended() const {
  return true;
}

void KubernetesToolSession::close() {}

}  // namespace portcullis::proto::mcp
