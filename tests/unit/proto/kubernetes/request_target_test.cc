// The request target codec: every verb, core and group paths, namespaced and cluster-scoped,
// subresources, watch both ways, exec commands, discovery, and the evasions a gateway must
// refuse or decode to what the API server reads.
#include "proto/kubernetes/request_target.h"

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <ostream>
#include <string>
#include <vector>

#include "proto/kubernetes/percent_encoding.h"

namespace portcullis::proto::kubernetes {

void PrintTo(const ApiRequest& r, std::ostream* out) {
  *out << fmt::format(
      "{{connection={} discovery={} verb={} group={} version={} resource={} subresource={} "
      "namespace={} name={} command=[{}] path={} query={}}}",
      r.connection, r.discovery, r.verb, r.group, r.version, r.resource, r.subresource,
      r.namespace_name, r.name, fmt::join(r.command, ", "), r.path, r.query);
}

namespace {

struct ReadCase {
  const char* name;
  std::string method;
  std::string target;
  ApiRequest expected;
};

std::ostream& operator<<(std::ostream& out, const ReadCase& c) {
  return out << c.name;
}

std::vector<ReadCase> read_cases() {
  return {
      // Verbs on a namespaced core resource.
      {"list", "GET", "/k8s/prod-cluster/api/v1/namespaces/prod/pods",
       ApiRequest{.connection = "prod-cluster",
                  .verb = "list",
                  .version = "v1",
                  .resource = "pods",
                  .namespace_name = "prod",
                  .path = "/api/v1/namespaces/prod/pods"}},
      {"get", "GET", "/k8s/prod-cluster/api/v1/namespaces/prod/pods/web-1",
       ApiRequest{.connection = "prod-cluster",
                  .verb = "get",
                  .version = "v1",
                  .resource = "pods",
                  .namespace_name = "prod",
                  .name = "web-1",
                  .path = "/api/v1/namespaces/prod/pods/web-1"}},
      {"head_is_get", "HEAD", "/k8s/c/api/v1/namespaces/prod/pods/web-1",
       ApiRequest{.connection = "c",
                  .verb = "get",
                  .version = "v1",
                  .resource = "pods",
                  .namespace_name = "prod",
                  .name = "web-1",
                  .path = "/api/v1/namespaces/prod/pods/web-1"}},
      {"create", "POST", "/k8s/c/api/v1/namespaces/prod/pods?dryRun=All",
       ApiRequest{.connection = "c",
                  .verb = "create",
                  .version = "v1",
                  .resource = "pods",
                  .namespace_name = "prod",
                  .path = "/api/v1/namespaces/prod/pods",
                  .query = "dryRun=All"}},
      {"update", "PUT", "/k8s/c/api/v1/namespaces/prod/configmaps/settings",
       ApiRequest{.connection = "c",
                  .verb = "update",
                  .version = "v1",
                  .resource = "configmaps",
                  .namespace_name = "prod",
                  .name = "settings",
                  .path = "/api/v1/namespaces/prod/configmaps/settings"}},
      {"patch", "PATCH", "/k8s/c/apis/apps/v1/namespaces/prod/deployments/api?fieldManager=kubectl",
       ApiRequest{.connection = "c",
                  .verb = "patch",
                  .group = "apps",
                  .version = "v1",
                  .resource = "deployments",
                  .namespace_name = "prod",
                  .name = "api",
                  .path = "/apis/apps/v1/namespaces/prod/deployments/api",
                  .query = "fieldManager=kubectl"}},
      {"delete", "DELETE", "/k8s/c/api/v1/namespaces/prod/pods/web-1",
       ApiRequest{.connection = "c",
                  .verb = "delete",
                  .version = "v1",
                  .resource = "pods",
                  .namespace_name = "prod",
                  .name = "web-1",
                  .path = "/api/v1/namespaces/prod/pods/web-1"}},
      {"deletecollection", "DELETE", "/k8s/c/api/v1/namespaces/prod/pods?labelSelector=app%3Dweb",
       ApiRequest{.connection = "c",
                  .verb = "deletecollection",
                  .version = "v1",
                  .resource = "pods",
                  .namespace_name = "prod",
                  .path = "/api/v1/namespaces/prod/pods",
                  .query = "labelSelector=app%3Dweb"}},

      // Cluster-scoped resources, core and in a group.
      {"cluster_list", "GET", "/k8s/c/api/v1/nodes",
       ApiRequest{.connection = "c",
                  .verb = "list",
                  .version = "v1",
                  .resource = "nodes",
                  .path = "/api/v1/nodes"}},
      {"cluster_get_group", "GET", "/k8s/c/apis/rbac.authorization.k8s.io/v1/clusterroles/admin",
       ApiRequest{.connection = "c",
                  .verb = "get",
                  .group = "rbac.authorization.k8s.io",
                  .version = "v1",
                  .resource = "clusterroles",
                  .name = "admin",
                  .path = "/apis/rbac.authorization.k8s.io/v1/clusterroles/admin"}},
      {"cluster_list_all_namespaces", "GET", "/k8s/c/apis/apps/v1beta1/deployments",
       ApiRequest{.connection = "c",
                  .verb = "list",
                  .group = "apps",
                  .version = "v1beta1",
                  .resource = "deployments",
                  .path = "/apis/apps/v1beta1/deployments"}},
      {"colon_in_name", "DELETE",
       "/k8s/c/apis/rbac.authorization.k8s.io/v1/clusterrolebindings/system:admin",
       ApiRequest{.connection = "c",
                  .verb = "delete",
                  .group = "rbac.authorization.k8s.io",
                  .version = "v1",
                  .resource = "clusterrolebindings",
                  .name = "system:admin",
                  .path = "/apis/rbac.authorization.k8s.io/v1/clusterrolebindings/system:admin"}},

      // Namespaces: the object, its subresources, and the collection.
      {"namespace_object", "GET", "/k8s/c/api/v1/namespaces/prod",
       ApiRequest{.connection = "c",
                  .verb = "get",
                  .version = "v1",
                  .resource = "namespaces",
                  .namespace_name = "prod",
                  .name = "prod",
                  .path = "/api/v1/namespaces/prod"}},
      {"namespace_list", "GET", "/k8s/c/api/v1/namespaces",
       ApiRequest{.connection = "c",
                  .verb = "list",
                  .version = "v1",
                  .resource = "namespaces",
                  .path = "/api/v1/namespaces"}},
      {"namespace_delete", "DELETE", "/k8s/c/api/v1/namespaces/prod",
       ApiRequest{.connection = "c",
                  .verb = "delete",
                  .version = "v1",
                  .resource = "namespaces",
                  .namespace_name = "prod",
                  .name = "prod",
                  .path = "/api/v1/namespaces/prod"}},
      {"namespace_status", "PUT", "/k8s/c/api/v1/namespaces/prod/status",
       ApiRequest{.connection = "c",
                  .verb = "update",
                  .version = "v1",
                  .resource = "namespaces",
                  .subresource = "status",
                  .namespace_name = "prod",
                  .name = "prod",
                  .path = "/api/v1/namespaces/prod/status"}},
      {"namespace_finalize", "PUT", "/k8s/c/api/v1/namespaces/prod/finalize",
       ApiRequest{.connection = "c",
                  .verb = "update",
                  .version = "v1",
                  .resource = "namespaces",
                  .subresource = "finalize",
                  .namespace_name = "prod",
                  .name = "prod",
                  .path = "/api/v1/namespaces/prod/finalize"}},

      // Subresources.
      {"pod_log", "GET", "/k8s/c/api/v1/namespaces/prod/pods/web-1/log?follow=true&container=app",
       ApiRequest{.connection = "c",
                  .verb = "get",
                  .version = "v1",
                  .resource = "pods",
                  .subresource = "log",
                  .namespace_name = "prod",
                  .name = "web-1",
                  .path = "/api/v1/namespaces/prod/pods/web-1/log",
                  .query = "follow=true&container=app"}},
      {"scale", "PUT", "/k8s/c/apis/apps/v1/namespaces/prod/deployments/api/scale",
       ApiRequest{.connection = "c",
                  .verb = "update",
                  .group = "apps",
                  .version = "v1",
                  .resource = "deployments",
                  .subresource = "scale",
                  .namespace_name = "prod",
                  .name = "api",
                  .path = "/apis/apps/v1/namespaces/prod/deployments/api/scale"}},
      {"status_patch", "PATCH", "/k8s/c/apis/apps/v1/namespaces/prod/deployments/api/status",
       ApiRequest{.connection = "c",
                  .verb = "patch",
                  .group = "apps",
                  .version = "v1",
                  .resource = "deployments",
                  .subresource = "status",
                  .namespace_name = "prod",
                  .name = "api",
                  .path = "/apis/apps/v1/namespaces/prod/deployments/api/status"}},
      {"token", "POST", "/k8s/c/api/v1/namespaces/prod/serviceaccounts/default/token",
       ApiRequest{.connection = "c",
                  .verb = "create",
                  .version = "v1",
                  .resource = "serviceaccounts",
                  .subresource = "token",
                  .namespace_name = "prod",
                  .name = "default",
                  .path = "/api/v1/namespaces/prod/serviceaccounts/default/token"}},

      // Watch: the query (Kubernetes' rule: the first value, true unless "0" or "false" in any
      // case, the empty value true) and the deprecated path form.
      {"watch_true", "GET", "/k8s/c/api/v1/namespaces/prod/pods?watch=true",
       ApiRequest{.connection = "c",
                  .verb = "watch",
                  .version = "v1",
                  .resource = "pods",
                  .namespace_name = "prod",
                  .path = "/api/v1/namespaces/prod/pods",
                  .query = "watch=true"}},
      {"watch_1", "GET", "/k8s/c/api/v1/pods?watch=1&resourceVersion=10",
       ApiRequest{.connection = "c",
                  .verb = "watch",
                  .version = "v1",
                  .resource = "pods",
                  .path = "/api/v1/pods",
                  .query = "watch=1&resourceVersion=10"}},
      {"watch_empty_value", "GET", "/k8s/c/api/v1/pods?watch=",
       ApiRequest{.connection = "c",
                  .verb = "watch",
                  .version = "v1",
                  .resource = "pods",
                  .path = "/api/v1/pods",
                  .query = "watch="}},
      {"watch_no_value", "GET", "/k8s/c/api/v1/pods?watch",
       ApiRequest{.connection = "c",
                  .verb = "watch",
                  .version = "v1",
                  .resource = "pods",
                  .path = "/api/v1/pods",
                  .query = "watch"}},
      {"watch_escaped_key", "GET", "/k8s/c/api/v1/pods?%77atch=yes",
       ApiRequest{.connection = "c",
                  .verb = "watch",
                  .version = "v1",
                  .resource = "pods",
                  .path = "/api/v1/pods",
                  .query = "%77atch=yes"}},
      {"watch_false", "GET", "/k8s/c/api/v1/pods?watch=false",
       ApiRequest{.connection = "c",
                  .verb = "list",
                  .version = "v1",
                  .resource = "pods",
                  .path = "/api/v1/pods",
                  .query = "watch=false"}},
      {"watch_false_upper", "GET", "/k8s/c/api/v1/pods?watch=FaLsE",
       ApiRequest{.connection = "c",
                  .verb = "list",
                  .version = "v1",
                  .resource = "pods",
                  .path = "/api/v1/pods",
                  .query = "watch=FaLsE"}},
      {"watch_first_value_counts", "GET", "/k8s/c/api/v1/pods?watch=0&watch=true",
       ApiRequest{.connection = "c",
                  .verb = "list",
                  .version = "v1",
                  .resource = "pods",
                  .path = "/api/v1/pods",
                  .query = "watch=0&watch=true"}},
      {"watch_key_is_case_sensitive", "GET", "/k8s/c/api/v1/pods?Watch=true",
       ApiRequest{.connection = "c",
                  .verb = "list",
                  .version = "v1",
                  .resource = "pods",
                  .path = "/api/v1/pods",
                  .query = "Watch=true"}},
      // The API server serves a named GET as a get, whatever `watch` says.
      {"named_get_ignores_watch", "GET", "/k8s/c/api/v1/namespaces/prod/pods/web-1?watch=true",
       ApiRequest{.connection = "c",
                  .verb = "get",
                  .version = "v1",
                  .resource = "pods",
                  .namespace_name = "prod",
                  .name = "web-1",
                  .path = "/api/v1/namespaces/prod/pods/web-1",
                  .query = "watch=true"}},
      {"watch_path_form", "GET", "/k8s/c/api/v1/watch/namespaces/prod/pods",
       ApiRequest{.connection = "c",
                  .verb = "watch",
                  .version = "v1",
                  .resource = "pods",
                  .namespace_name = "prod",
                  .path = "/api/v1/watch/namespaces/prod/pods"}},
      {"watch_path_form_named", "GET", "/k8s/c/api/v1/watch/namespaces/prod/pods/web-1",
       ApiRequest{.connection = "c",
                  .verb = "watch",
                  .version = "v1",
                  .resource = "pods",
                  .namespace_name = "prod",
                  .name = "web-1",
                  .path = "/api/v1/watch/namespaces/prod/pods/web-1"}},
      {"watch_path_form_group_ignores_query", "GET",
       "/k8s/c/apis/apps/v1/watch/deployments?watch=false",
       ApiRequest{.connection = "c",
                  .verb = "watch",
                  .group = "apps",
                  .version = "v1",
                  .resource = "deployments",
                  .path = "/apis/apps/v1/watch/deployments",
                  .query = "watch=false"}},
      {"watch_path_form_namespace", "GET", "/k8s/c/api/v1/watch/namespaces/prod",
       ApiRequest{.connection = "c",
                  .verb = "watch",
                  .version = "v1",
                  .resource = "namespaces",
                  .namespace_name = "prod",
                  .name = "prod",
                  .path = "/api/v1/watch/namespaces/prod"}},

      // Streams: their verb whatever the method.
      {"exec_websocket", "GET",
       "/k8s/c/api/v1/namespaces/prod/pods/web-1/"
       "exec?command=ls&command=-la&container=app&stdout=true",
       ApiRequest{.connection = "c",
                  .verb = "exec",
                  .version = "v1",
                  .resource = "pods",
                  .subresource = "exec",
                  .namespace_name = "prod",
                  .name = "web-1",
                  .command = {"ls", "-la"},
                  .path = "/api/v1/namespaces/prod/pods/web-1/exec",
                  .query = "command=ls&command=-la&container=app&stdout=true"}},
      {"exec_spdy_decodes_words", "POST",
       "/k8s/c/api/v1/namespaces/prod/pods/web-1/exec?stdin=true&command=sh&command=-c&"
       "command=echo+a%20b%3B%20id%27s&%63ommand=&command=%E2%9C%93",
       ApiRequest{.connection = "c",
                  .verb = "exec",
                  .version = "v1",
                  .resource = "pods",
                  .subresource = "exec",
                  .namespace_name = "prod",
                  .name = "web-1",
                  .command = {"sh", "-c", "echo a b; id's", "", "\xE2\x9C\x93"},
                  .path = "/api/v1/namespaces/prod/pods/web-1/exec",
                  .query = "stdin=true&command=sh&command=-c&command=echo+a%20b%3B%20id%27s&"
                           "%63ommand=&command=%E2%9C%93"}},
      {"exec_newline_in_word", "POST",
       "/k8s/c/api/v1/namespaces/prod/pods/web-1/exec?command=sh&command=-c&command=id%0Als",
       ApiRequest{.connection = "c",
                  .verb = "exec",
                  .version = "v1",
                  .resource = "pods",
                  .subresource = "exec",
                  .namespace_name = "prod",
                  .name = "web-1",
                  .command = {"sh", "-c", "id\nls"},
                  .path = "/api/v1/namespaces/prod/pods/web-1/exec",
                  .query = "command=sh&command=-c&command=id%0Als"}},
      {"attach", "POST", "/k8s/c/api/v1/namespaces/prod/pods/web-1/attach?stdin=true&tty=true",
       ApiRequest{.connection = "c",
                  .verb = "attach",
                  .version = "v1",
                  .resource = "pods",
                  .subresource = "attach",
                  .namespace_name = "prod",
                  .name = "web-1",
                  .path = "/api/v1/namespaces/prod/pods/web-1/attach",
                  .query = "stdin=true&tty=true"}},
      {"portforward", "GET", "/k8s/c/api/v1/namespaces/prod/pods/web-1/portforward?ports=8080",
       ApiRequest{.connection = "c",
                  .verb = "portforward",
                  .version = "v1",
                  .resource = "pods",
                  .subresource = "portforward",
                  .namespace_name = "prod",
                  .name = "web-1",
                  .path = "/api/v1/namespaces/prod/pods/web-1/portforward",
                  .query = "ports=8080"}},
      {"proxy_pod_keeps_its_path", "GET",
       "/k8s/c/api/v1/namespaces/prod/pods/web-1:8080/proxy/Metrics/a%20b/",
       ApiRequest{.connection = "c",
                  .verb = "proxy",
                  .version = "v1",
                  .resource = "pods",
                  .subresource = "proxy",
                  .namespace_name = "prod",
                  .name = "web-1:8080",
                  .path = "/api/v1/namespaces/prod/pods/web-1:8080/proxy/Metrics/a%20b/"}},
      {"proxy_service_any_method", "DELETE",
       "/k8s/c/api/v1/namespaces/prod/services/https:api:443/proxy",
       ApiRequest{.connection = "c",
                  .verb = "proxy",
                  .version = "v1",
                  .resource = "services",
                  .subresource = "proxy",
                  .namespace_name = "prod",
                  .name = "https:api:443",
                  .path = "/api/v1/namespaces/prod/services/https:api:443/proxy"}},
      {"proxy_node", "GET",
       "/k8s/c/api/v1/nodes/node-1/proxy/stats/summary?only_cpu_and_memory=true",
       ApiRequest{.connection = "c",
                  .verb = "proxy",
                  .version = "v1",
                  .resource = "nodes",
                  .subresource = "proxy",
                  .name = "node-1",
                  .path = "/api/v1/nodes/node-1/proxy/stats/summary",
                  .query = "only_cpu_and_memory=true"}},

      // Decoded and normalised: the path forwarded is the one read.
      {"escaped_letters_decoded", "GET", "/k8s/c/api/v1/namespaces/prod/%73ecrets",
       ApiRequest{.connection = "c",
                  .verb = "list",
                  .version = "v1",
                  .resource = "secrets",
                  .namespace_name = "prod",
                  .path = "/api/v1/namespaces/prod/secrets"}},
      {"escaped_everything_decoded", "GET",
       "/%6B8s/c/%61pi/v%31/%6Eamespaces/%70rod/%73ecrets/%64b",
       ApiRequest{.connection = "c",
                  .verb = "get",
                  .version = "v1",
                  .resource = "secrets",
                  .namespace_name = "prod",
                  .name = "db",
                  .path = "/api/v1/namespaces/prod/secrets/db"}},
      {"trailing_slash_dropped", "GET", "/k8s/c/api/v1/namespaces/prod/pods/",
       ApiRequest{.connection = "c",
                  .verb = "list",
                  .version = "v1",
                  .resource = "pods",
                  .namespace_name = "prod",
                  .path = "/api/v1/namespaces/prod/pods"}},
      {"name_reencoded", "GET", "/k8s/c/api/v1/namespaces/prod/configmaps/a%20b%7e%3a%2b",
       ApiRequest{.connection = "c",
                  .verb = "get",
                  .version = "v1",
                  .resource = "configmaps",
                  .namespace_name = "prod",
                  .name = "a b~:+",
                  .path = "/api/v1/namespaces/prod/configmaps/a%20b~:%2B"}},
      {"connection_decoded", "GET", "/k8s/Prod%20East/api/v1/pods",
       ApiRequest{.connection = "Prod East",
                  .verb = "list",
                  .version = "v1",
                  .resource = "pods",
                  .path = "/api/v1/pods"}},

      // Discovery.
      {"version", "GET", "/k8s/c/version",
       ApiRequest{.connection = "c", .discovery = true, .verb = "get", .path = "/version"}},
      {"version_slash", "GET", "/k8s/c/version/",
       ApiRequest{.connection = "c", .discovery = true, .verb = "get", .path = "/version"}},
      {"api", "GET", "/k8s/c/api",
       ApiRequest{.connection = "c", .discovery = true, .verb = "get", .path = "/api"}},
      {"api_head", "HEAD", "/k8s/c/api?timeout=32s",
       ApiRequest{.connection = "c",
                  .discovery = true,
                  .verb = "get",
                  .path = "/api",
                  .query = "timeout=32s"}},
      {"api_version", "GET", "/k8s/c/api/v1",
       ApiRequest{.connection = "c",
                  .discovery = true,
                  .verb = "get",
                  .version = "v1",
                  .path = "/api/v1"}},
      {"apis", "GET", "/k8s/c/apis",
       ApiRequest{.connection = "c", .discovery = true, .verb = "get", .path = "/apis"}},
      {"apis_group", "GET", "/k8s/c/apis/apps",
       ApiRequest{.connection = "c",
                  .discovery = true,
                  .verb = "get",
                  .group = "apps",
                  .path = "/apis/apps"}},
      {"apis_group_version", "GET", "/k8s/c/apis/apps/v1/",
       ApiRequest{.connection = "c",
                  .discovery = true,
                  .verb = "get",
                  .group = "apps",
                  .version = "v1",
                  .path = "/apis/apps/v1"}},
      {"openapi_v2", "GET", "/k8s/c/openapi/v2",
       ApiRequest{.connection = "c", .discovery = true, .verb = "get", .path = "/openapi/v2"}},
      {"openapi_v3", "GET", "/k8s/c/openapi/v3",
       ApiRequest{.connection = "c", .discovery = true, .verb = "get", .path = "/openapi/v3"}},
      {"openapi_v3_group", "GET", "/k8s/c/openapi/v3/apis/apps/v1?hash=0123ABC",
       ApiRequest{.connection = "c",
                  .discovery = true,
                  .verb = "get",
                  .path = "/openapi/v3/apis/apps/v1",
                  .query = "hash=0123ABC"}},
  };
}

class ReadRequestTargetTest : public testing::TestWithParam<ReadCase> {};

TEST_P(ReadRequestTargetTest, ReadsWhatTheApiServerReads) {
  const ReadCase& c = GetParam();
  const auto read = read_request_target(c.method, c.target);
  ASSERT_TRUE(read.ok()) << c.target << ": " << read.error().message;
  EXPECT_EQ(read.value(), c.expected);
}

// What was decided is what is forwarded: the forwarded path reads as the same request.
TEST_P(ReadRequestTargetTest, TheForwardedPathReadsTheSame) {
  const ReadCase& c = GetParam();
  const auto read = read_request_target(c.method, c.target);
  ASSERT_TRUE(read.ok()) << c.target << ": " << read.error().message;
  std::string again = "/k8s/" + encode_path_segment(read->connection) + read->path;
  if (!read->query.empty()) again += "?" + read->query;
  const auto reread = read_request_target(c.method, again);
  ASSERT_TRUE(reread.ok()) << again << ": " << reread.error().message;
  EXPECT_EQ(reread.value(), read.value());
}

INSTANTIATE_TEST_SUITE_P(Targets, ReadRequestTargetTest, testing::ValuesIn(read_cases()),
                         [](const auto& info) { return std::string(info.param.name); });

struct RefusedCase {
  const char* name;
  std::string method;
  std::string target;
  std::string message;  // a part of the refusal's message
};

std::ostream& operator<<(std::ostream& out, const RefusedCase& c) {
  return out << c.name;
}

std::vector<RefusedCase> refused_cases() {
  const std::string pods = "/k8s/c/api/v1/namespaces/prod/pods";
  return {
      // Methods the API does not serve.
      {"options", "OPTIONS", pods, "serves no OPTIONS"},
      {"trace", "TRACE", pods, "serves no TRACE"},
      {"connect", "CONNECT", pods, "serves no CONNECT"},
      {"lower_case_method", "get", pods, "serves no get"},
      {"empty_method", "", pods, "serves no"},
      {"discovery_post", "POST", "/k8s/c/api", "GET only"},
      {"discovery_delete", "DELETE", "/k8s/c/apis/apps/v1", "GET only"},

      // Escapes that would split or read the path differently upstream.
      {"escaped_slash", "GET", "/k8s/c/api/v1/namespaces/prod%2Fsecrets", "escaped '/'"},
      {"escaped_slash_lower", "GET", "/k8s/c/api/v1/namespaces/prod%2fsecrets", "escaped '/'"},
      {"escaped_slash_in_connection", "GET", "/k8s/a%2Fb/api/v1/pods", "escaped '/'"},
      {"escaped_backslash", "GET", "/k8s/c/api/v1/namespaces/prod/pods%5Cx", "escaped '\\'"},
      {"raw_backslash", "GET", "/k8s/c/api/v1/namespaces/prod/pods\\..\\secrets", "'\\'"},
      {"invalid_escape", "GET", "/k8s/c/api/v1/namespaces/prod/pods/%zz", "two hex digits"},
      {"short_escape", "GET", "/k8s/c/api/v1/namespaces/prod/pods/%4", "two hex digits"},
      {"bare_percent", "GET", "/k8s/c/api/v1/namespaces/prod/pods/a%", "two hex digits"},
      {"escaped_nul", "GET", "/k8s/c/api/v1/namespaces/prod/secrets%00", "control character"},
      {"raw_nul", "GET", std::string("/k8s/c/api/v1/namespaces/prod/secrets\0x", 39), "byte 0x00"},
      {"raw_newline", "GET", "/k8s/c/api/v1/namespaces/prod/pods\n", "byte 0x0a"},
      {"escaped_newline", "GET", "/k8s/c/api/v1/namespaces/prod/pods%0A", "control character"},
      {"escaped_delete", "GET", "/k8s/c/api/v1/namespaces/prod/pods%7F", "control character"},
      {"raw_space", "GET", "/k8s/c/api/v1/namespaces/prod/pods x", "byte 0x20"},
      {"raw_high_byte", "GET", "/k8s/c/api/v1/namespaces/prod/pods\xC3\xA9", "byte 0xc3"},

      // Dot segments and empty segments.
      {"dot_dot_after_exec", "GET", "/k8s/c/api/v1/namespaces/prod/pods/x/exec/../../secrets",
       "'..'"},
      {"dot_dot", "GET", "/k8s/c/api/v1/namespaces/prod/../kube-system/secrets", "'..'"},
      {"escaped_dot_dot", "GET", "/k8s/c/api/v1/namespaces/prod/%2E%2E/secrets", "'..'"},
      {"dot", "GET", "/k8s/c/api/v1/./namespaces/prod/pods", "'.'"},
      {"connection_dot_dot", "GET", "/k8s/../api/v1/pods", "'..'"},
      {"double_slash", "GET", "/k8s/c/api/v1//pods", "empty segment"},
      {"double_slash_at_end", "GET", "/k8s/c/api/v1/pods//", "empty segment"},
      {"double_slash_at_start", "GET", "//k8s/c/api/v1/pods", "empty segment"},

      // The gateway's prefix.
      {"empty_connection", "GET", "/k8s//api", "names no connection"},
      {"connection_only", "GET", "/k8s/c", "no Kubernetes API path"},
      {"connection_and_slash", "GET", "/k8s/c/", "no Kubernetes API path"},
      {"prefix_only", "GET", "/k8s/", "names no connection"},
      {"prefix_no_slash", "GET", "/k8s", "names no connection"},
      {"missing_prefix", "GET", "/api/v1/namespaces/prod/pods", "/k8s/CONNECTION/"},
      {"upper_case_prefix", "GET", "/K8S/c/api/v1/pods", "/k8s/CONNECTION/"},
      {"root", "GET", "/", "/k8s/CONNECTION/"},
      {"not_origin_form", "GET", "k8s/c/api/v1/pods", "beginning with '/'"},
      {"asterisk_form", "GET", "*", "beginning with '/'"},
      {"absolute_form", "GET", "https://gateway/k8s/c/api/v1/pods", "beginning with '/'"},
      {"empty_target", "GET", "", "beginning with '/'"},
      {"fragment", "GET", "/k8s/c/api/v1/pods#x", "fragment"},
      {"fragment_in_query", "GET", "/k8s/c/api/v1/pods?watch=false#x", "fragment"},

      // The API server matches these parts case-sensitively.
      {"upper_case_resource", "GET", "/k8s/c/api/v1/namespaces/prod/SECRETS", "does not parse"},
      {"mixed_case_resource", "GET", "/k8s/c/api/v1/namespaces/prod/Secrets", "does not parse"},
      {"escaped_upper_case_resource", "GET", "/k8s/c/api/v1/namespaces/prod/%53ecrets",
       "does not parse"},
      {"upper_case_api", "GET", "/k8s/c/API/v1/pods", "does not parse"},
      {"upper_case_apis", "GET", "/k8s/c/APIS/apps/v1/deployments", "does not parse"},
      {"upper_case_group", "GET", "/k8s/c/apis/Apps/v1/deployments", "does not parse"},
      {"upper_case_version", "GET", "/k8s/c/api/V1/pods", "does not parse"},
      {"upper_case_namespaces", "GET", "/k8s/c/api/v1/NAMESPACES/prod/pods", "does not parse"},
      {"upper_case_namespace", "GET", "/k8s/c/api/v1/namespaces/Prod/pods", "does not parse"},
      {"upper_case_watch", "GET", "/k8s/c/api/v1/WATCH/pods", "does not parse"},
      {"upper_case_subresource", "POST", "/k8s/c/api/v1/namespaces/prod/pods/x/EXEC?command=id",
       "does not parse"},
      {"upper_case_discovery", "GET", "/k8s/c/Version", "does not parse"},
      {"upper_case_openapi_group", "GET", "/k8s/c/openapi/v3/apis/Apps/v1", "does not parse"},

      // Paths that are not the API's.
      {"healthz", "GET", "/k8s/c/healthz", "not a Kubernetes API path"},
      {"metrics", "GET", "/k8s/c/metrics", "not a Kubernetes API path"},
      {"logs", "GET", "/k8s/c/logs/kube-apiserver.log", "not a Kubernetes API path"},
      {"version_more", "GET", "/k8s/c/version/x", "not a Kubernetes API path"},
      {"openapi_v1", "GET", "/k8s/c/openapi/v1", "not a Kubernetes API path"},
      {"openapi_v2_more", "GET", "/k8s/c/openapi/v2/x", "not a Kubernetes API path"},
      {"openapi", "GET", "/k8s/c/openapi", "not a Kubernetes API path"},

      // Shapes the API server does not serve.
      {"two_subresources", "GET", "/k8s/c/api/v1/namespaces/prod/pods/x/log/extra",
       "more than one segment after the name"},
      {"after_exec", "POST", "/k8s/c/api/v1/namespaces/prod/pods/x/exec/secrets?command=id",
       "more than one segment after the name"},
      {"namespace_status_more", "PUT", "/k8s/c/api/v1/namespaces/prod/status/x",
       "more than one segment after the name"},
      {"watch_form_post", "POST", "/k8s/c/api/v1/watch/namespaces/prod/pods", "GET only"},
      {"watch_form_subresource", "GET", "/k8s/c/api/v1/watch/namespaces/prod/pods/x/log",
       "names no subresource"},
      {"watch_form_alone", "GET", "/k8s/c/api/v1/watch", "names no resource"},
      {"proxy_form", "GET", "/k8s/c/api/v1/proxy/namespaces/prod/pods/x", "was removed"},
      {"watch_as_namespaced_resource", "GET", "/k8s/c/api/v1/namespaces/prod/watch/pods",
       "not a resource here"},
      {"percent_in_name", "GET", "/k8s/c/api/v1/namespaces/prod/pods/a%25b", "holds a '%'"},
      {"exec_without_command", "POST", "/k8s/c/api/v1/namespaces/prod/pods/x/exec?stdin=true",
       "names no command"},

      // Queries the API server reads otherwise.
      {"semicolon", "GET", pods + "?watch=false;watch=true", "';'"},
      {"query_invalid_escape", "GET", pods + "?watch=fal%se", "two hex digits"},
      {"query_nul", "POST", "/k8s/c/api/v1/namespaces/prod/pods/x/exec?command=cat%00/etc/shadow",
       "NUL"},
      {"query_raw_space", "GET", pods + "?watch=false x", "byte 0x20"},
      {"watch_not_ascii", "GET", pods + "?watch=fal%C5%BFe", "not ASCII"},
  };
}

class RefuseRequestTargetTest : public testing::TestWithParam<RefusedCase> {};

TEST_P(RefuseRequestTargetTest, RefusesWithAClearMessage) {
  const RefusedCase& c = GetParam();
  const auto read = read_request_target(c.method, c.target);
  ASSERT_FALSE(read.ok()) << c.target;
  EXPECT_NE(read.error().message.find(c.message), std::string::npos) << read.error().message;
}

INSTANTIATE_TEST_SUITE_P(Targets, RefuseRequestTargetTest, testing::ValuesIn(refused_cases()),
                         [](const auto& info) { return std::string(info.param.name); });

TEST(ReadRequestTargetBoundsTest, ReadsATargetOfTheLongestLength) {
  const std::string base = "/k8s/c/api/v1/namespaces/prod/configmaps/";
  const std::string target = base + std::string(kMaxTargetSize - base.size(), 'a');
  const auto read = read_request_target("GET", target);
  ASSERT_TRUE(read.ok()) << read.error().message;
  EXPECT_EQ(read->name.size(), kMaxTargetSize - base.size());
  EXPECT_FALSE(read_request_target("GET", target + "a").ok());
}

TEST(ReadRequestTargetBoundsTest, RefusesAQueryOverTheLongestLength) {
  const std::string target = "/k8s/c/api/v1/pods?labelSelector=";
  EXPECT_FALSE(read_request_target("GET", target + std::string(kMaxTargetSize, 'a')).ok());
}

std::string proxy_with_segments(std::size_t count) {
  // /k8s/c/api/v1/nodes/n/proxy is 7 segments.
  std::string target = "/k8s/c/api/v1/nodes/n/proxy";
  for (std::size_t i = 7; i < count; ++i) target += "/s";
  return target;
}

TEST(ReadRequestTargetBoundsTest, ReadsUpToTheMostSegments) {
  const auto at_most = read_request_target("GET", proxy_with_segments(kMaxSegments));
  ASSERT_TRUE(at_most.ok()) << at_most.error().message;
  EXPECT_EQ(at_most->verb, "proxy");
  const auto over = read_request_target("GET", proxy_with_segments(kMaxSegments + 1));
  ASSERT_FALSE(over.ok());
  EXPECT_NE(over.error().message.find("segments"), std::string::npos);
}

std::string exec_with_words(std::size_t count) {
  std::string target = "/k8s/c/api/v1/namespaces/prod/pods/x/exec?stdout=true";
  for (std::size_t i = 0; i < count; ++i) target += fmt::format("&command=w{}", i);
  return target;
}

TEST(ReadRequestTargetBoundsTest, ReadsUpToTheMostCommandWordsInOrder) {
  const auto at_most = read_request_target("POST", exec_with_words(kMaxCommandWords));
  ASSERT_TRUE(at_most.ok()) << at_most.error().message;
  ASSERT_EQ(at_most->command.size(), kMaxCommandWords);
  for (std::size_t i = 0; i < kMaxCommandWords; ++i)
    EXPECT_EQ(at_most->command[i], fmt::format("w{}", i));
  const auto over = read_request_target("POST", exec_with_words(kMaxCommandWords + 1));
  ASSERT_FALSE(over.ok());
  EXPECT_NE(over.error().message.find("more than 256 words"), std::string::npos);
}

// A message quotes the text it refuses escaped and short: no byte of the request reaches a
// log line or a client's Status as it came.
TEST(ReadRequestTargetMessageTest, QuotesRefusedTextEscapedAndShort) {
  const auto read =
      read_request_target("GET", "/k8s/c/api/v1/namespaces/prod/%E2%80%AE" + std::string(200, 'X'));
  ASSERT_FALSE(read.ok());
  const std::string& message = read.error().message;
  EXPECT_NE(message.find("%E2%80%AE"), std::string::npos) << message;
  EXPECT_LT(message.size(), 200u) << message;
  for (const char c : message) EXPECT_TRUE(c >= 0x20 && c < 0x7f) << message;
}

// kubectl get pod NAME -w lists the collection narrowed to one name by its field selector: the
// name is known; any other selector leaves the whole collection.
TEST(ReadRequestTargetSelectedNameTest, AFieldSelectorOnTheNameNamesTheObject) {
  const std::string secrets = "/k8s/c/api/v1/namespaces/prod/secrets";
  auto narrowed =
      read_request_target("GET", secrets + "?fieldSelector=metadata.name%3Ddb-password&watch=1");
  ASSERT_TRUE(narrowed.ok()) << narrowed.error().message;
  EXPECT_EQ(narrowed->verb, "watch");
  EXPECT_EQ(narrowed->name, "");
  EXPECT_EQ(narrowed->selected_name, "db-password");
  auto doubled = read_request_target("GET", secrets + "?fieldSelector=metadata.name%3D%3Ddb-x");
  ASSERT_TRUE(doubled.ok());
  EXPECT_EQ(doubled->selected_name, "db-x");
  auto deleted = read_request_target("DELETE", secrets + "?fieldSelector=metadata.name=tls");
  ASSERT_TRUE(deleted.ok());
  EXPECT_EQ(deleted->verb, "deletecollection");
  EXPECT_EQ(deleted->selected_name, "tls");
  for (const std::string query :
       {"?fieldSelector=metadata.name!%3Dtls", "?fieldSelector=metadata.name%3Dtls,type%3DOpaque",
        "?fieldSelector=metadata.namespace%3Dprod", "?labelSelector=a"}) {
    auto wide = read_request_target("GET", secrets + query);
    ASSERT_TRUE(wide.ok()) << query;
    EXPECT_EQ(wide->selected_name, "") << query;
  }
  // A named object's GET is a get of that object, whatever its query says.
  auto named = read_request_target("GET", secrets + "/tls?fieldSelector=metadata.name%3Ddb");
  ASSERT_TRUE(named.ok());
  EXPECT_EQ(named->name, "tls");
  EXPECT_EQ(named->selected_name, "");
}

}  // namespace
}  // namespace portcullis::proto::kubernetes
