// Decisions on Kubernetes requests: the classes each request needs (reads, secrets, writes,
// exec, forwarding, administration), the grant's resources allow-list, guardrails on verbs,
// resources, namespaces and names, and exec commands decided as ssh command lines are.
#include <gtest/gtest.h>

#include "guardrail_rule.h"
#include "policy/access.h"
#include "policy/command.h"
#include "policy/decide.h"
#include "policy/guardrails.h"

namespace portcullis::policy {
namespace {

using config::GuardrailAction;
using config::GuardrailConfig;
using config::GuardrailWhen;

KubeCommand request(std::string verb, std::string resource, std::string namespace_name = "prod",
                    std::string name = {}, std::string group = {}, std::string subresource = {}) {
  KubeCommand facts;
  facts.verb = std::move(verb);
  facts.resource = std::move(resource);
  facts.namespace_name = std::move(namespace_name);
  facts.name = std::move(name);
  facts.group = std::move(group);
  facts.subresource = std::move(subresource);
  return read_kube_request(std::move(facts), std::nullopt);
}

KubeCommand exec(std::string line, std::string pod = "web-1") {
  KubeCommand facts;
  facts.verb = "exec";
  facts.resource = "pods";
  facts.subresource = "exec";
  facts.namespace_name = "prod";
  facts.name = std::move(pod);
  return read_kube_request(std::move(facts), line);
}

identity::Identity kube_user() {
  identity::Identity id;
  id.subject = "alice";
  id.groups = {"devs"};
  return id;
}

struct Cluster {
  config::Config config;
  Grant grant;

  Cluster(std::vector<std::string> allow, std::vector<std::string> resources = {},
          std::vector<std::string> programs = {}, std::vector<GuardrailConfig> guardrails = {}) {
    config::ConnectionConfig cluster;
    cluster.name = "prod-cluster";
    cluster.kind = config::ConnectionKind::kubernetes;
    cluster.credentials["viewer"] = {};
    config.connections.push_back(std::move(cluster));
    config.guardrails = std::move(guardrails);
    grant = Grant{.rule = "devs-prod",
                  .connection = &config.connections.front(),
                  .credentials = &config.connections.front().credentials.at("viewer"),
                  .allow = std::move(allow),
                  .programs = std::move(programs),
                  .resources = std::move(resources),
                  .masking = {},
                  .expires_at = {}};
  }
  Cluster(const Cluster&) = delete;

  Decision decide(KubeCommand kube) const {
    Command command;
    command.protocol = "kubernetes";
    command.connection = "prod-cluster";
    command.text = kube.verb + " " + kube.resource_key();
    command.via = "GET";
    command.detail = std::move(kube);
    return policy::decide(config, kube_user(), grant, command);
  }
};

TEST(KubeClasses, EachRequestNeedsItsClass) {
  EXPECT_EQ(request("get", "pods").classes, std::vector<std::string>{"read"});
  EXPECT_EQ(request("watch", "deployments", "prod", "", "apps").classes,
            std::vector<std::string>{"read"});
  EXPECT_EQ(request("get", "secrets", "prod", "db").classes, std::vector<std::string>{"secrets"});
  EXPECT_EQ(request("list", "secrets").classes, std::vector<std::string>{"secrets"});
  // A resource named secrets in another group is not the core Secret.
  EXPECT_EQ(request("list", "secrets", "prod", "", "example.com").classes,
            std::vector<std::string>{"read"});
  EXPECT_EQ(request("delete", "pods", "prod", "web-1").classes, std::vector<std::string>{"write"});
  EXPECT_EQ(request("deletecollection", "pods").classes, std::vector<std::string>{"write"});
  EXPECT_EQ(request("patch", "deployments", "prod", "web", "apps", "scale").classes,
            std::vector<std::string>{"write"});
  EXPECT_EQ(request("portforward", "pods", "prod", "web-1", "", "portforward").classes,
            std::vector<std::string>{"forward"});
  EXPECT_EQ(request("proxy", "services", "prod", "web", "", "proxy").classes,
            std::vector<std::string>{"forward"});
  EXPECT_EQ(request("attach", "pods", "prod", "web-1", "", "attach").classes,
            std::vector<std::string>{"exec"});
}

TEST(KubeClasses, AdministrationIsItsOwnClass) {
  EXPECT_EQ(request("list", "clusterroles", "", "", "rbac.authorization.k8s.io").classes,
            std::vector<std::string>{"admin"});
  EXPECT_EQ(request("create", "rolebindings", "prod", "", "rbac.authorization.k8s.io").classes,
            std::vector<std::string>{"admin"});
  EXPECT_EQ(request("get", "nodes", "").classes, std::vector<std::string>{"admin"});
  EXPECT_EQ(request("create", "serviceaccounts", "prod", "deployer", "", "token").classes,
            std::vector<std::string>{"admin"});
  EXPECT_EQ(request("create", "certificatesigningrequests", "", "", "certificates.k8s.io").classes,
            std::vector<std::string>{"admin"});
  EXPECT_EQ(request("create", "tokenreviews", "", "", "authentication.k8s.io").classes,
            std::vector<std::string>{"admin"});
  // kubectl auth can-i asks about the caller itself: a read.
  EXPECT_EQ(request("create", "selfsubjectaccessreviews", "", "", "authorization.k8s.io").classes,
            std::vector<std::string>{"read"});
}

TEST(KubeClasses, AnExecCommandAddsWhatItsLineDoes) {
  EXPECT_EQ(exec("'ls' '-la'").classes, std::vector<std::string>{"exec"});
  EXPECT_EQ(exec("'sh' '-c' 'echo x > /etc/motd'").classes,
            (std::vector<std::string>{"exec", "file_write"}));
  EXPECT_EQ(exec("'sh' '-c' 'eval $X'").classes, (std::vector<std::string>{"exec", "unknown"}));
  EXPECT_EQ(exec("'ls'").resource_key(), "pods");
  EXPECT_EQ(request("get", "pods", "prod", "web-1", "", "log").resource_key(), "pods/log");
}

TEST(KubeDecide, TheGrantsClassesDecide) {
  const Cluster readers({"read"});
  EXPECT_EQ(readers.decide(request("list", "pods")).verdict, Verdict::allow);
  const auto secrets = readers.decide(request("get", "secrets", "prod", "db"));
  EXPECT_EQ(secrets.verdict, Verdict::deny);
  EXPECT_EQ(secrets.rule, "devs-prod");
  EXPECT_NE(secrets.message.find("reading secrets"), std::string::npos) << secrets.message;
  const auto deletion = readers.decide(request("delete", "pods", "prod", "web-1"));
  EXPECT_EQ(deletion.verdict, Verdict::deny);
  EXPECT_NE(deletion.message.find("delete pods"), std::string::npos) << deletion.message;
  EXPECT_EQ(
      readers.decide(request("list", "clusterroles", "", "", "rbac.authorization.k8s.io")).verdict,
      Verdict::deny);
  EXPECT_EQ(readers.decide(exec("'ls'")).verdict, Verdict::deny);
}

TEST(KubeDecide, DiscoveryIsAllowedToEveryGrant) {
  const Cluster nothing({});
  KubeCommand discovery;
  discovery.discovery = true;
  discovery.verb = "get";
  EXPECT_EQ(nothing.decide(read_kube_request(discovery, std::nullopt)).verdict, Verdict::allow);
}

TEST(KubeDecide, TheResourcesAllowList) {
  const Cluster c({"read", "exec"}, {"pods", "deployments"});
  EXPECT_EQ(c.decide(request("list", "pods")).verdict, Verdict::allow);
  EXPECT_EQ(c.decide(request("list", "configmaps")).verdict, Verdict::deny);
  // A subresource is listed on its own; exec is governed by the pods entry.
  const auto logs = c.decide(request("get", "pods", "prod", "web-1", "", "log"));
  EXPECT_EQ(logs.verdict, Verdict::deny);
  EXPECT_NE(logs.message.find("\"pods/log\""), std::string::npos) << logs.message;
  EXPECT_EQ(c.decide(exec("'ls'")).verdict, Verdict::allow);
}

TEST(KubeDecide, ExecCommandsAreDecidedAsSshCommandLines) {
  const Cluster c({"read", "exec"}, {}, {"ls", "cat", "env"});
  EXPECT_EQ(c.decide(exec("'ls' '-la' '/'")).verdict, Verdict::allow);
  EXPECT_EQ(c.decide(exec("'rm' '-rf' '/'")).verdict, Verdict::deny);
  // The shell reader unwraps what the command hands to a shell.
  EXPECT_EQ(c.decide(exec("'sh' '-c' 'ls; rm -rf /'")).verdict, Verdict::deny);
  EXPECT_EQ(c.decide(exec("'env' 'rm' '-rf' '/'")).verdict, Verdict::deny);
  // Writing a file needs file_write, which this grant does not allow.
  EXPECT_EQ(c.decide(exec("'sh' '-c' 'cat x > /etc/passwd'")).verdict, Verdict::deny);
  // attach has no command to check against the programs.
  const auto attach = c.decide(request("attach", "pods", "prod", "web-1", "", "attach"));
  EXPECT_EQ(attach.verdict, Verdict::deny);
  EXPECT_NE(attach.message.find("no command"), std::string::npos) << attach.message;
}

TEST(KubeGuardrails, VerbsNamespacesAndNamesQualify) {
  GuardrailWhen prod_deletes;
  prod_deletes.verbs = {"delete", "deletecollection"};
  prod_deletes.namespaces = {"prod*"};
  GuardrailWhen named;
  named.resources = {"secrets"};
  named.names = {"db-*"};
  const Cluster c({"read", "write", "secrets"}, {}, {},
                  {guardrail("prod-deletes", GuardrailAction::review, prod_deletes),
                   guardrail("db-secrets", GuardrailAction::deny, named)});
  const auto held = c.decide(request("delete", "pods", "prod", "web-1"));
  EXPECT_EQ(held.verdict, Verdict::review);
  EXPECT_EQ(held.rule, "prod-deletes");
  EXPECT_EQ(c.decide(request("delete", "pods", "staging", "web-1")).verdict, Verdict::allow);
  EXPECT_EQ(c.decide(request("get", "secrets", "prod", "db-password")).verdict, Verdict::deny);
  EXPECT_EQ(c.decide(request("get", "secrets", "prod", "tls")).verdict, Verdict::allow);
  // Listing, watching or creating in the whole collection could reach db-password as well: the
  // guardrail on names holds for them, unless the request is narrowed to another name.
  EXPECT_EQ(c.decide(request("list", "secrets", "prod")).verdict, Verdict::deny);
  EXPECT_EQ(c.decide(request("watch", "secrets", "prod")).verdict, Verdict::deny);
  EXPECT_EQ(c.decide(request("create", "secrets", "prod")).verdict, Verdict::deny);
  EXPECT_EQ(c.decide(request("watch", "secrets", "prod", "db-password")).verdict, Verdict::deny);
  EXPECT_EQ(c.decide(request("watch", "secrets", "prod", "tls")).verdict, Verdict::allow);
}

TEST(KubeGuardrails, ASubresourceEntryAndTheResourceEntry) {
  GuardrailWhen logs;
  logs.resources = {"pods/log"};
  GuardrailWhen pods;
  pods.resources = {"pods"};
  const Cluster c({"read"}, {}, {}, {guardrail("no-logs", GuardrailAction::deny, logs)});
  EXPECT_EQ(c.decide(request("get", "pods", "prod", "web-1", "", "log")).verdict, Verdict::deny);
  EXPECT_EQ(c.decide(request("get", "pods", "prod", "web-1")).verdict, Verdict::allow);
  const Cluster d({"read"}, {}, {}, {guardrail("no-pods", GuardrailAction::deny, pods)});
  EXPECT_EQ(d.decide(request("get", "pods", "prod", "web-1", "", "log")).verdict, Verdict::deny);
}

TEST(KubeGuardrails, SshConditionsReachExecCommands) {
  GuardrailWhen rm;
  rm.programs = {"rm"};
  const Cluster c({"read", "exec"}, {}, {}, {guardrail("no-rm", GuardrailAction::deny, rm)});
  EXPECT_EQ(c.decide(exec("'ls'")).verdict, Verdict::allow);
  const auto refused = c.decide(exec("'sh' '-c' 'r\"m\" -rf /data'"));
  EXPECT_EQ(refused.verdict, Verdict::deny);
  EXPECT_EQ(refused.rule, "no-rm");
  // Not an exec: the guardrail on programs does not apply.
  EXPECT_EQ(c.decide(request("get", "pods")).verdict, Verdict::allow);
}

TEST(KubeGuardrails, KubernetesConditionsNeverMatchOtherProtocols) {
  GuardrailWhen deletes;
  deletes.verbs = {"delete"};
  identity::Identity who = kube_user();
  // An ssh command line, and a SQL statement, are not Kubernetes requests.
  EXPECT_FALSE(guardrail_matches(deletes, read_shell_command("rm -rf /"), nullptr, "web-1", who));
  sql::Statement statement;
  statement.kind = "delete";
  EXPECT_FALSE(guardrail_matches(deletes, statement, "db", who));
}

}  // namespace
}  // namespace portcullis::policy
