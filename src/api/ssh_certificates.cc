// POST /api/v1/ssh/certificates: `portcullis ssh login` sends the public key it made and gets
// it certified for the caller, for no longer than the credential the request carried. OpenSSH
// clients cut passwords at 1023 bytes, so a token cannot log in to the SSH listener itself.
#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <boost/json.hpp>

#include "api/endpoints.h"
#include "api/request_bodies.h"
#include "api/review_json.h"
#include "audit/event.h"

namespace portcullis::api {

namespace http = boost::beast::http;

boost::asio::awaitable<std::optional<Response>> post_ssh_certificate(Call& call) {
  if (!call.services.ssh_ca) co_return not_running("the SSH certificate authority");
  auto body = parse_ssh_certificate_body(call.request.body());
  if (!body)
    co_return error_response(http::status::bad_request, "bad_request", body.error().message);
  const auto now = std::chrono::system_clock::now();
  const auto max_ttl = std::chrono::duration_cast<std::chrono::seconds>(
      call.context->config->identity.ssh.max_certificate_ttl);
  auto issued = call.services.ssh_ca->issue(*call.caller, body->public_key, now, max_ttl);
  if (!issued) {
    journal_request(call, call.request.target(), call.caller->subject,
                    "refused: " + issued.error().message);
    co_return error_response(http::status::bad_request, "bad_request", issued.error().message);
  }
  spdlog::info("event=ssh_certificate_issued subject={:?} serial={} valid_before={}",
               call.caller->subject, issued->serial, audit::format_time(issued->valid_before));
  journal_request(call, call.request.target(), call.caller->subject,
                  fmt::format("issued serial {} until {}", issued->serial,
                              audit::format_time(issued->valid_before)));
  boost::json::object out{{"certificate", issued->certificate},
                          {"key_id", issued->key_id},
                          {"serial", std::to_string(issued->serial)},
                          {"valid_after", audit::format_time(issued->valid_after)},
                          {"valid_before", audit::format_time(issued->valid_before)}};
  co_return json_response(http::status::created, boost::json::serialize(out));
}

}  // namespace portcullis::api
