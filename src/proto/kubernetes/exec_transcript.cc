// ExecTranscript: stdin and masked output kept up to their bounds, the Status read for the exit
// code.
#include "proto/kubernetes/exec_transcript.h"

#include <algorithm>
#include <boost/json.hpp>
#include <charconv>

namespace portcullis::proto::kubernetes {

namespace {

// Appends to a bounded copy kept for the journal; `cut` tells that some did not fit.
void keep(std::string& kept, bool& cut, std::size_t limit, std::string_view bytes) {
  const std::size_t room = limit - std::min(limit, kept.size());
  if (bytes.size() > room) cut = true;
  kept.append(bytes.substr(0, room));
}

std::string_view string_at(const boost::json::object& object, std::string_view key) {
  const auto* value = object.if_contains(key);
  if (value == nullptr || !value->is_string()) return {};
  const auto& text = value->get_string();
  return {text.data(), text.size()};
}

// The exit code in a NonZeroExitCode Status: details.causes[] has {"reason": "ExitCode",
// "message": "N"} (k8s.io/kubelet's exec handler, remotecommand's writeStatus).
std::optional<int> exit_code_cause(const boost::json::object& status) {
  const auto* details = status.if_contains("details");
  if (details == nullptr || !details->is_object()) return std::nullopt;
  const auto* causes = details->get_object().if_contains("causes");
  if (causes == nullptr || !causes->is_array()) return std::nullopt;
  for (const auto& cause : causes->get_array()) {
    if (!cause.is_object() || string_at(cause.get_object(), "reason") != "ExitCode") continue;
    const std::string_view text = string_at(cause.get_object(), "message");
    int code = 0;
    const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), code);
    if (error == std::errc() && end == text.data() + text.size() && !text.empty()) return code;
  }
  return std::nullopt;
}

}  // namespace

void ExecTranscript::record_input(std::string_view data) {
  input_bytes_ += data.size();
  keep(input_seen_, input_cut_, limits_.kept_input, data);
}

void ExecTranscript::record_output(std::string_view masked) {
  output_bytes_ += masked.size();
  keep(output_seen_, output_cut_, limits_.kept_output, masked);
}

void ExecTranscript::read_status(std::string_view json) {
  boost::system::error_code error;
  const boost::json::value value = boost::json::parse(json, error);
  // Not (yet) a whole JSON object: the Status may still be arriving.
  if (error || !value.is_object()) return;
  const auto& status = value.get_object();
  const std::string_view state = string_at(status, "status");
  exit_code_.reset();
  status_message_.clear();
  if (state == "Success") {
    exit_code_ = 0;
    return;
  }
  if (string_at(status, "reason") == "NonZeroExitCode") exit_code_ = exit_code_cause(status);
  if (exit_code_) return;
  status_message_ = string_at(status, "message");
  if (status_message_.empty()) status_message_ = string_at(status, "reason");
  if (status_message_.empty()) status_message_ = state;
}

}  // namespace portcullis::proto::kubernetes
