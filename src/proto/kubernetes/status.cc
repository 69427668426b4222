// Status objects for refusals.
#include "proto/kubernetes/status.h"

#include <boost/json/object.hpp>
#include <boost/json/serialize.hpp>

namespace portcullis::proto::kubernetes {

StatusCode status_of(gateway::RefusalReason reason) {
  using gateway::RefusalReason;
  switch (reason) {
    case RefusalReason::authentication_failed:
      return {401, "Unauthorized"};
    case RefusalReason::busy:
      return {429, "TooManyRequests"};
    case RefusalReason::tls_required:
      return {400, "BadRequest"};
    case RefusalReason::too_large:
      return {413, "RequestEntityTooLarge"};
    case RefusalReason::not_ready:
    case RefusalReason::unavailable:
    case RefusalReason::session_ended:
    case RefusalReason::connection_lost:
      return {503, "ServiceUnavailable"};
    case RefusalReason::access_denied:
    case RefusalReason::denied:
    case RefusalReason::review_required:
    case RefusalReason::rejected:
    case RefusalReason::expired:
    case RefusalReason::cancelled:
      return {403, "Forbidden"};
  }
  return {403, "Forbidden"};
}

std::string status_json(StatusCode code, std::string_view message) {
  boost::json::object status;
  status["kind"] = "Status";
  status["apiVersion"] = "v1";
  status["metadata"] = boost::json::object();
  status["status"] = "Failure";
  status["message"] = message;
  status["reason"] = code.reason;
  status["code"] = code.http;
  return boost::json::serialize(status);
}

}  // namespace portcullis::proto::kubernetes
