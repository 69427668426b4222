// libFuzzer target for the Kubernetes request target codec (proto/kubernetes/request_target,
// exec_command): the first byte chooses the HTTP method (and, with its high bit, puts
// "/k8s/c" before the rest, to reach the API paths sooner); the rest is the request target.
// Checked on every target read: the path forwarded is normal (begins with '/', no empty, '.'
// or '..' segment, no escaped '/' or '\', no control character) and, with the connection and
// the query, reads again as the same request; the verb is one of Kubernetes' and agrees with
// the subresource; an exec has a command within bounds, and its shell line reads back as that
// command through the shell grammar.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "proto/kubernetes/exec_command.h"
#include "proto/kubernetes/request_target.h"
#include "shell/parser.h"

namespace {

using namespace portcullis::proto::kubernetes;

void check(bool holds) {
  if (!holds) __builtin_trap();
}

constexpr std::string_view kMethods[] = {"GET",   "HEAD",   "POST",    "PUT",
                                         "PATCH", "DELETE", "OPTIONS", "get"};

constexpr std::string_view kVerbs[] = {"get",    "list",   "watch",       "create",
                                       "update", "patch",  "delete",      "deletecollection",
                                       "exec",   "attach", "portforward", "proxy"};

bool contains(std::string_view text, std::string_view part) {
  return text.find(part) != std::string_view::npos;
}

// The connection written back as a segment, independently of the codec's own encoder: every
// byte but letters and digits escaped.
std::string escape_all(std::string_view text) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (const char ch : text) {
    const auto c = static_cast<unsigned char>(ch);
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) {
      out += ch;
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 0xf];
    }
  }
  return out;
}

void check_path(std::string_view path) {
  check(!path.empty() && path.front() == '/');
  check(!contains(path, "//") && !contains(path, "/../") && !contains(path, "/./"));
  check(!path.ends_with("/..") && !path.ends_with("/."));
  check(!contains(path, "%2F") && !contains(path, "%2f") && !contains(path, "%5C") &&
        !contains(path, "%5c") && !contains(path, "\\"));
  for (const char c : path) check(static_cast<unsigned char>(c) > 0x20 && c != 0x7f);
}

void check_exec_line(const ApiRequest& request) {
  const auto parsed = portcullis::shell::parse(format_exec_line(request.command));
  check(parsed.error.empty() && parsed.commands.size() == 1);
  const auto& command = parsed.commands[0];
  check(command.assignments.empty() && command.redirections.empty());
  check(command.argv.size() == request.command.size());
  for (std::size_t i = 0; i < command.argv.size(); ++i)
    check(command.argv[i].is_static && command.argv[i].value == request.command[i]);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const std::string_view method = kMethods[data[0] % std::size(kMethods)];
  std::string target = (data[0] & 0x80) ? "/k8s/c" : "";
  target.append(reinterpret_cast<const char*>(data + 1), size - 1);

  const auto read = read_request_target(method, target);
  if (!read) {
    check(!read.error().message.empty());
    return 0;
  }
  const ApiRequest& request = read.value();
  check(!request.connection.empty());
  check_path(request.path);
  check(std::find(std::begin(kVerbs), std::end(kVerbs), request.verb) != std::end(kVerbs));
  if (request.discovery) {
    check(request.verb == "get" && request.resource.empty() && request.name.empty());
  } else {
    check(!request.version.empty() && !request.resource.empty());
    check(request.path.starts_with(request.group.empty() ? "/api/" : "/apis/"));
  }
  if (request.verb == "list" || request.verb == "deletecollection") check(request.name.empty());
  if (request.verb == "get" && !request.discovery) check(!request.name.empty());
  if (!request.subresource.empty()) check(!request.name.empty());
  if (request.subresource == "exec" || request.subresource == "attach" ||
      request.subresource == "portforward" || request.subresource == "proxy")
    check(request.verb == request.subresource);
  check(request.command.size() <= kMaxCommandWords);
  check(request.command.empty() == (request.subresource != "exec"));
  if (!request.command.empty()) check_exec_line(request);

  // Idempotent: what is forwarded reads as what was decided.
  std::string again = "/k8s/" + escape_all(request.connection) + request.path;
  if (!request.query.empty()) again += "?" + request.query;
  // Escaping can make it longer than a target may be; what is forwarded goes without the check.
  if (again.size() > kMaxTargetSize) return 0;
  const auto reread = read_request_target(method, again);
  check(reread.ok() && reread.value() == request);
  return 0;
}
