// Placeholder until the in-process SSH client lands: every call is refused.
#include "proto/mcp/ssh_tool_session.h"

namespace portcullis::proto::mcp {

struct SshToolSession::State {};

SshToolSession::SshToolSession(std::unique_ptr<State> state) : state_(std::move(state)) {}
SshToolSession::~SshToolSession() = default;

boost::asio::awaitable<std::variant<std::shared_ptr<SshToolSession>, ToolError>>
SshToolSession::open(boost::asio::any_io_executor, Adopt, std::string, Secret, std::string,
                     HoldProbe) {
  co_return ToolError{.code = {}, .message = "the exec tool is not available", .detail = {}};
}

boost::asio::awaitable<std::variant<ExecAnswer, ToolError>> SshToolSession::run(ExecRequest,
                                                                                std::size_t) {
  co_return ToolError{.code = {}, .message = "the exec tool is not available", .detail = {}};
}

bool SshToolSession::ended() const {
  return true;
}

void SshToolSession::close() {}

}  // namespace portcullis::proto::mcp
