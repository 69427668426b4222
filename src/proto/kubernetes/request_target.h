// The request target of a Kubernetes API call made through the gateway
// ("/k8s/CONNECTION/api/v1/namespaces/prod/pods?watch=true") read into what a decision needs:
// the connection, Kubernetes' verb, group, version, resource, subresource, namespace and name,
// and the command of an exec. It follows the API server's own reading (RequestInfoFactory in
// k8s.io/apiserver/pkg/endpoints/request/requestinfo.go) and refuses whatever the gateway and
// the API server could read differently. Pure: no I/O, no policy.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"

namespace portcullis::proto::kubernetes {

// Longest request target read: Kubernetes' own paths and queries are far shorter, and Go's
// HTTP server (which the API server uses) refuses request headers of more than 1 MiB in all.
inline constexpr std::size_t kMaxTargetSize = 16 * 1024;
// Most path segments read, "/k8s/CONNECTION" included. The longest API path but a proxy's has
// 10 (/k8s/C/apis/G/V/namespaces/NS/R/N/S); the rest is room for the path after a proxy.
inline constexpr std::size_t kMaxSegments = 64;
// Most `command` values an exec may carry.
inline constexpr std::size_t kMaxCommandWords = 256;

// Every member has a default, so that a request is written with the fields it has only
// (designated initialisers, as the tests do).
struct ApiRequest {
  std::string connection = {};  // from the target's "/k8s/CONNECTION/" prefix
  // /version, /api, /api/V, /apis, /apis/G, /apis/G/V, /openapi/v2 and /openapi/v3[/...]:
  // what a client reads to learn what the server serves. The verb is "get".
  bool discovery = false;
  // get list watch create update patch delete deletecollection, and for the subresources
  // that open a stream, exec attach portforward proxy (whatever the HTTP method).
  std::string verb = {};
  std::string group = {};           // "" for the core group (/api/...)
  std::string version = {};         // v1, v1beta1, ...
  std::string resource = {};        // the plural, as in the path: pods, secrets, deployments, ...
  std::string subresource = {};     // log, exec, attach, portforward, proxy, status, scale, ...
  std::string namespace_name = {};  // empty when cluster-scoped
  std::string name = {};            // empty for a collection
  std::vector<std::string> command = {};  // exec: the `command` query values, in order
  // The decoded, normalised path to send upstream, without the "/k8s/CONNECTION" prefix, with
  // every segment re-encoded: exactly what was read, nothing the API server would read
  // otherwise.
  std::string path = {};
  std::string query = {};  // the query to send upstream (without '?'), as received

  // A list, watch or deletecollection narrowed to one object by `fieldSelector=metadata.name=X`
  // (what `kubectl get pod X -w` sends): X; empty otherwise.
  std::string selected_name = {};
  bool operator==(const ApiRequest&) const = default;
};

// `method` is the HTTP method as received (case-sensitive); `target` the request-target in
// origin form. Refused, with a message meant for the caller: other methods than GET, HEAD,
// POST, PUT, PATCH and DELETE; a target that is not "/k8s/CONNECTION/" and a Kubernetes API
// path; an empty, "." or ".." segment; an escaped '/' or '\', an escaped control character,
// an invalid escape; a fragment; upper-case letters in the parts the API server matches
// case-sensitively (api, apis, group, version, resource, subresource, namespaces, watch) or in
// a namespace; more than one subresource segment (but after proxy); beyond the bounds above.
Result<ApiRequest> read_request_target(std::string_view method, std::string_view target);

}  // namespace portcullis::proto::kubernetes
