// A front end for tests only: a line protocol over TCP built on nothing but the gateway core
// (admission, the command gate, the session recorder, the accept loop). It shows what a
// protocol has to write to get every control; it has no backend and runs nothing.
//
//   client: LOGIN <subject> <connection> <credential>   gateway: OK <session> | ERR <reason> <msg>
//   client: <SQL text>                                  gateway: RAN <text>
//                                                                | REFUSED <reason> <msg>
//                                                                | HELD <review>, then RAN or
//                                                                  REFUSED once decided
//   gateway, when the session is ended (kill, revoke, shutdown): BYE <reason> <message>
#pragma once

#include <memory>
#include <string>

#include "gateway/accept_loop.h"
#include "gateway/front_end.h"

namespace portcullis::testing {

class LineFrontEnd final : public gateway::FrontEnd {
 public:
  static constexpr std::string_view kProtocol = "line";

  LineFrontEnd(net::IoThreads& threads, std::shared_ptr<const gateway::GatewayContext> context);
  Result<void> start(const config::Endpoint& listen) override;
  void stop() override { loop_.stop(); }
  void replace_context(std::shared_ptr<const gateway::GatewayContext> context) override {
    loop_.replace_context(std::move(context));
  }
  std::size_t active_sessions() const override { return loop_.active_sessions(); }

 private:
  gateway::AcceptLoop loop_;
};

}  // namespace portcullis::testing
