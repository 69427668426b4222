// Reading a request target: the target split and decoded with every ambiguity refused, then
// the API path read as the API server reads it.
#include "proto/kubernetes/request_target.h"

#include <fmt/format.h>

#include <algorithm>
#include <span>
#include <utility>

#include "proto/kubernetes/percent_encoding.h"

namespace portcullis::proto::kubernetes {
namespace {

// The first segment of every target: one listener serves several clusters, the second segment
// names which.
constexpr std::string_view kPrefixSegment = "k8s";

// After /namespaces/NAME, these are subresources of the namespace and any other segment is a
// resource in it (requestinfo.go's namespaceSubresources).
constexpr std::string_view kNamespaceSubresources[] = {"status", "finalize"};

// The subresources that open a stream to a container or a port: their verb is their own name
// whatever the method (GET for WebSocket, POST for SPDY), and proxy's takes the rest of the
// path as the path on the pod, service or node.
constexpr std::string_view kStreamSubresources[] = {"exec", "attach", "portforward", "proxy"};

// Longest text of the target quoted back in a message.
constexpr std::size_t kQuotedInMessage = 64;

enum class Method { get, head, post, put, patch, del };

using Segments = std::span<const std::string>;

struct Parameter {
  std::string key;
  std::string value;
};

// The target cut into decoded path segments, with the query kept as received.
struct SplitTarget {
  std::vector<std::string> segments;
  bool trailing_slash = false;
  std::string_view query;
};

bool contains(std::span<const std::string_view> list, std::string_view word) {
  return std::find(list.begin(), list.end(), word) != list.end();
}

// A segment of the path as a message shows it: escaped, so that no byte of it can break the
// message or the log line, and cut short.
std::string quoted(std::string_view segment) {
  std::string text = encode_path_segment(segment.substr(0, kQuotedInMessage));
  if (segment.size() > kQuotedInMessage) text += "...";
  return fmt::format("\"{}\"", text);
}

Result<Method> read_method(std::string_view method) {
  if (method == "GET") return Method::get;
  if (method == "HEAD") return Method::head;
  if (method == "POST") return Method::post;
  if (method == "PUT") return Method::put;
  if (method == "PATCH") return Method::patch;
  if (method == "DELETE") return Method::del;
  return make_error(fmt::format("the Kubernetes API serves no {} requests",
                                encode_path_segment(method.substr(0, kQuotedInMessage))));
}

bool reads(Method method) {
  return method == Method::get || method == Method::head;
}

Result<SplitTarget> split_target(std::string_view target) {
  if (target.size() > kMaxTargetSize)
    return make_error(fmt::format("the request target is longer than {} bytes", kMaxTargetSize));
  // A client never sends a fragment; a server that kept it in the path would read another one.
  if (target.find('#') != std::string_view::npos)
    return make_error("the request target holds a fragment ('#')");
  SplitTarget split;
  const auto question = target.find('?');
  std::string_view path = target.substr(0, question);
  if (question != std::string_view::npos) split.query = target.substr(question + 1);
  if (path.empty() || path.front() != '/')
    return make_error("the request target is not a path beginning with '/'");
  path.remove_prefix(1);
  // One '/' at the end names what the path names without it (RequestInfoFactory trims it
  // before reading the path); an empty segment anywhere else is refused.
  if (!path.empty() && path.back() == '/') {
    split.trailing_slash = true;
    path.remove_suffix(1);
  }
  while (!path.empty()) {
    const auto slash = path.find('/');
    const std::string_view raw = path.substr(0, slash);
    if (raw.empty()) {
      if (split.segments.size() == 1 && split.segments[0] == kPrefixSegment)
        return make_error("the path names no connection (/k8s/CONNECTION/...)");
      return make_error("the path has an empty segment ('//')");
    }
    if (split.segments.size() == kMaxSegments)
      return make_error(fmt::format("the path has more than {} segments", kMaxSegments));
    auto decoded = decode_path_segment(raw);
    if (!decoded) return decoded.error();
    if (*decoded == "." || *decoded == "..")
      return make_error("the path has a '.' or '..' segment");
    split.segments.push_back(std::move(decoded).value());
    if (slash == std::string_view::npos) break;
    path.remove_prefix(slash + 1);
    // The final '/' was cut above: nothing after this one is a "//" at the end.
    if (path.empty()) return make_error("the path has an empty segment ('//')");
  }
  return split;
}

// The query's parameters, read as Go's url.ParseQuery reads them (which is what the API server
// reads): split at '&', then at the first '=', both sides decoded, empty pieces skipped.
Result<std::vector<Parameter>> read_query(std::string_view query) {
  // Go refuses a parameter with a ';' and reads on without it: the gateway would read a
  // parameter the API server does not.
  if (query.find(';') != std::string_view::npos)
    return make_error(
        "the query holds a ';', which the API server does not read as the gateway does");
  std::vector<Parameter> parameters;
  while (!query.empty()) {
    const auto amp = query.find('&');
    const std::string_view piece = query.substr(0, amp);
    query = amp == std::string_view::npos ? std::string_view() : query.substr(amp + 1);
    if (piece.empty()) continue;
    const auto equals = piece.find('=');
    auto key = decode_query_component(piece.substr(0, equals));
    if (!key) return key.error();
    auto value = decode_query_component(
        equals == std::string_view::npos ? std::string_view() : piece.substr(equals + 1));
    if (!value) return value.error();
    parameters.push_back(
        Parameter{.key = std::move(key).value(), .value = std::move(value).value()});
  }
  return parameters;
}

bool is_lower_word_char(char c, bool dots) {
  return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || (dots && c == '.');
}

// The parts the API server matches as they are written: lower-case letters, digits, '-' and
// (in a group's, a resource's or a version's name) '.'. "Secrets" is not "secrets" to the API
// server, and the gateway decides on no other spelling than the one it forwards.
Result<void> check_api_word(std::string_view what, std::string_view word, bool dots = true) {
  if (!word.empty() &&
      std::all_of(word.begin(), word.end(), [&](char c) { return is_lower_word_char(c, dots); }))
    return {};
  return make_error(
      fmt::format("the path does not parse: {} {} is not lower-case letters, digits{} and '-'",
                  what, quoted(word), dots ? ", '.'" : ""));
}

// An object's name, as the API server takes it in a path (IsValidPathSegmentName): any
// segment but '.' and '..' (refused already) without a '%'.
Result<void> check_name(std::string_view name) {
  if (name.find('%') == std::string_view::npos) return {};
  return make_error(fmt::format("the path does not parse: the name {} holds a '%'", quoted(name)));
}

std::string join_path(Segments segments) {
  std::string path;
  for (const auto& segment : segments) {
    path += '/';
    path += encode_path_segment(segment);
  }
  return path;
}

// Whether a list is a watch, as ListOptions reads `watch`: its first value, true unless it is
// "0" or "false" in any case; the empty value is true.
Result<bool> watch_requested(const std::vector<Parameter>& parameters) {
  const auto watch = std::find_if(parameters.begin(), parameters.end(),
                                  [](const Parameter& p) { return p.key == "watch"; });
  if (watch == parameters.end()) return false;
  // Newer API servers compare with Unicode case folding (strings.EqualFold: "falſe" is false),
  // older ones after strings.ToLower: a value outside ASCII reads differently by version.
  const std::string& value = watch->value;
  if (std::any_of(value.begin(), value.end(), [](char c) { return (c & 0x80) != 0; }))
    return make_error("the query's watch value is not ASCII");
  std::string lower = value;
  std::transform(lower.begin(), lower.end(), lower.begin(), [](char c) {
    return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c;
  });
  return lower != "0" && lower != "false";
}

// The one object a collection request is narrowed to by its field selector, as the API server
// reads ListOptions (the first fieldSelector value): `metadata.name=X` or `metadata.name==X`
// alone; empty for any other selector, which can match many objects.
std::string selected_name(const std::vector<Parameter>& parameters) {
  const auto selector = std::find_if(parameters.begin(), parameters.end(),
                                     [](const Parameter& p) { return p.key == "fieldSelector"; });
  if (selector == parameters.end()) return {};
  std::string_view value = selector->value;
  constexpr std::string_view kName = "metadata.name=";
  if (!value.starts_with(kName) || value.find(',') != std::string_view::npos) return {};
  value.remove_prefix(kName.size());
  if (value.starts_with('=')) value.remove_prefix(1);
  return std::string(value);
}

Result<std::vector<std::string>> exec_command(const std::vector<Parameter>& parameters) {
  std::vector<std::string> command;
  for (const auto& parameter : parameters) {
    if (parameter.key != "command") continue;
    if (command.size() == kMaxCommandWords)
      return make_error(fmt::format("the exec command has more than {} words", kMaxCommandWords));
    command.push_back(parameter.value);
  }
  // The API server refuses it too; refused here, no decision is made on a command of nothing.
  if (command.empty()) return make_error("the exec request names no command");
  return command;
}

// The paths clients read to learn what the server serves: true with `request` filled in when
// `api` is one, false when it is a resource path, an error when it is neither.
Result<bool> read_discovery(Segments api, ApiRequest& request) {
  const std::string& root = api[0];
  if (root == "version" && api.size() == 1) return true;
  if (root == "openapi" && api.size() >= 2 &&
      ((api[1] == "v2" && api.size() == 2) || api[1] == "v3")) {
    for (const auto& segment : api.subspan(2)) {
      if (auto checked = check_api_word("the OpenAPI path segment", segment); !checked)
        return checked.error();
    }
    return true;
  }
  if (root == "api" && api.size() <= 2) {
    if (api.size() == 2) {
      if (auto checked = check_api_word("the version", api[1], false); !checked)
        return checked.error();
      request.version = api[1];
    }
    return true;
  }
  if (root == "apis" && api.size() <= 3) {
    if (api.size() >= 2) {
      if (auto checked = check_api_word("the group", api[1]); !checked) return checked.error();
      request.group = api[1];
    }
    if (api.size() == 3) {
      if (auto checked = check_api_word("the version", api[2], false); !checked)
        return checked.error();
      request.version = api[2];
    }
    return true;
  }
  if (root == "api" || root == "apis") return false;
  return make_error(fmt::format(
      "the path does not parse: {} is not a Kubernetes API path (/api, /apis, /version, "
      "/openapi)",
      quoted(root)));
}

std::string method_verb(Method method, bool collection) {
  switch (method) {
    case Method::get:
    case Method::head:
      return "get";
    case Method::post:
      return "create";
    case Method::put:
      return "update";
    case Method::patch:
      return "patch";
    case Method::del:
      return collection ? "deletecollection" : "delete";
  }
  return {};
}

// /api/V/... and /apis/G/V/...: RequestInfoFactory's reading, with the deprecated /watch/
// form, the removed /proxy/ form refused, and nothing after a subresource but after proxy.
Result<void> read_resource_path(Method method, Segments api, bool trailing_slash,
                                const std::vector<Parameter>& parameters, ApiRequest& request) {
  std::size_t at = 1;
  if (api[0] == "apis") {
    if (auto checked = check_api_word("the group", api[at]); !checked) return checked;
    request.group = api[at++];
  }
  if (auto checked = check_api_word("the version", api[at], false); !checked) return checked;
  request.version = api[at++];
  Segments parts = api.subspan(at);

  const bool watch_form = parts[0] == "watch";
  if (watch_form) {
    if (!reads(method))
      return make_error("the path does not parse: the /watch/ form is served to GET only");
    parts = parts.subspan(1);
    if (parts.empty()) return make_error("the path does not parse: /watch/ names no resource");
  }
  if (parts[0] == "namespaces" && parts.size() > 1) {
    request.namespace_name = parts[1];
    if (auto checked = check_api_word("the namespace", request.namespace_name, false); !checked)
      return checked;
    if (parts.size() > 2 && !contains(kNamespaceSubresources, std::string_view(parts[2])))
      parts = parts.subspan(2);
  }

  // The API server takes "watch" and "proxy" here as verbs, never as a resource's name.
  if (parts[0] == "watch" || parts[0] == "proxy")
    return make_error(
        fmt::format("the path does not parse: {} is not a resource here{}", quoted(parts[0]),
                    parts[0] == "proxy" ? " (the /proxy/ form was removed; the proxy subresource "
                                          "is /namespaces/NS/pods/NAME/proxy)"
                                        : ""));
  request.resource = parts[0];
  if (auto checked = check_api_word("the resource", request.resource); !checked) return checked;
  if (parts.size() >= 2) {
    request.name = parts[1];
    if (auto checked = check_name(request.name); !checked) return checked;
  }
  if (parts.size() >= 3) {
    request.subresource = parts[2];
    if (auto checked = check_api_word("the subresource", request.subresource); !checked)
      return checked;
  }
  const bool proxy = request.subresource == "proxy";
  if (parts.size() > 3 && !proxy)
    return make_error(fmt::format(
        "the path does not parse: more than one segment after the name (subresource {}, then "
        "{})",
        quoted(request.subresource), quoted(parts[3])));
  if (watch_form && !request.subresource.empty())
    return make_error("the path does not parse: a /watch/ path names no subresource");

  if (watch_form) {
    request.verb = "watch";
  } else if (contains(kStreamSubresources, request.subresource)) {
    request.verb = request.subresource;
  } else {
    request.verb = method_verb(method, request.name.empty());
    // Only a collection's GET is a list or a watch: a named object's GET is served as a get,
    // whatever its query says.
    if (request.verb == "get" && request.name.empty()) {
      auto watch = watch_requested(parameters);
      if (!watch) return watch.error();
      request.verb = *watch ? "watch" : "list";
    }
  }
  if (request.name.empty() &&
      (request.verb == "list" || request.verb == "watch" || request.verb == "deletecollection"))
    request.selected_name = selected_name(parameters);
  if (request.subresource == "exec") {
    auto command = exec_command(parameters);
    if (!command) return command.error();
    request.command = std::move(command).value();
  }

  request.path = join_path(api);
  // After proxy the path is the pod's, service's or node's own, where a final '/' matters.
  if (proxy && trailing_slash) request.path += '/';
  return {};
}

}  // namespace

Result<ApiRequest> read_request_target(std::string_view method, std::string_view target) {
  const auto http_method = read_method(method);
  if (!http_method) return http_method.error();
  auto split = split_target(target);
  if (!split) return split.error();
  const std::vector<std::string>& segments = split->segments;
  if (segments.empty() || segments[0] != kPrefixSegment)
    return make_error(
        "the path does not begin with /k8s/CONNECTION/, the gateway's prefix for a cluster");
  if (segments.size() < 2) return make_error("the path names no connection (/k8s/CONNECTION/...)");
  if (segments.size() < 3)
    return make_error("the path names a connection but no Kubernetes API path after it");
  auto parameters = read_query(split->query);
  if (!parameters) return parameters.error();

  ApiRequest request{.connection = segments[1], .query = std::string(split->query)};
  const Segments api = Segments(segments).subspan(2);
  auto discovery = read_discovery(api, request);
  if (!discovery) return discovery.error();
  if (*discovery) {
    if (!reads(*http_method))
      return make_error("discovery paths (/version, /api, /apis, /openapi) are read with GET only");
    request.discovery = true;
    request.verb = "get";
    request.path = join_path(api);
    return request;
  }
  if (auto read =
          read_resource_path(*http_method, api, split->trailing_slash, *parameters, request);
      !read)
    return read.error();
  return request;
}

}  // namespace portcullis::proto::kubernetes
