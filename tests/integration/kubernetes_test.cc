// End to end on the Kubernetes front end: the real kubectl through the gateway to the stand-in
// API server (tests/support/kube_standin_apiserver.py, a stand-in written for these tests: no
// real API server is packaged for Debian). Reads pass and are masked; Secrets stay behind a
// grant's `secrets` class and their values are redacted wherever a response carries them;
// writes, administration and impersonation are refused, with the evasions a raw client can try
// in the path; a held delete runs once approved; a watch streams and ends with the session.
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <boost/json.hpp>
#include <chrono>
#include <map>
#include <string>
#include <thread>

#include "contains.h"
#include "kube_gateway.h"
#include "support/free_port.h"
#include "support/tcp_probe.h"

namespace portcullis::testing {
namespace {

using namespace std::chrono_literals;
namespace json = boost::json;

class KubernetesTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    KubeGatewayOptions options;
    options.access_section =
        "access:\n"
        "  - name: viewers\n"
        "    who: { groups: [viewers] }\n"
        "    connections: [cluster]\n"
        "    allow: [read]\n"
        "    masking: pii\n"
        "  - name: devs\n"
        "    who: { groups: [devs] }\n"
        "    connections: [cluster]\n"
        "    allow: [read, write]\n"
        "    masking: pii\n"
        "  - name: operators\n"
        "    who: { groups: [operators] }\n"
        "    connections: [cluster]\n"
        "    allow: [read, exec]\n"
        "    programs: [echo, cat, sh, exit]\n"
        "    masking: pii\n"
        "  - name: shells\n"
        "    who: { groups: [shells] }\n"
        "    connections: [cluster]\n"
        "    allow: [read, exec, unknown, forward]\n"
        "    masking: pii\n"
        "  - name: keepers\n"
        "    who: { groups: [keepers] }\n"
        "    connections: [cluster]\n"
        "    allow: [read, secrets, write]\n";
    options.guardrails_section =
        "guardrails:\n"
        "  - name: prod-deployments-need-approval\n"
        "    when: { verbs: [delete], resources: [deployments], namespaces: [prod] }\n"
        "    action: review\n"
        "    reviewers: { groups: [leads] }\n"
        "    wait: 60s\n";
    options.extra_sections = "api:\n  admin_groups: [admins]\n";
    gateway_ = new KubeGateway(options);
    viewer_ = new std::string(gateway_->token_for("vic", "viewers"));
    dev_ = new std::string(gateway_->token_for("dana", "devs"));
    keeper_ = new std::string(gateway_->token_for("kim", "keepers"));
    operator_ = new std::string(gateway_->token_for("otto", "operators"));
    shell_user_ = new std::string(gateway_->token_for("sam", "shells"));
    lead_ = new std::string(gateway_->token_for("lee", "leads"));
    admin_ = new std::string(gateway_->token_for("ada", "admins"));
  }
  static void TearDownTestSuite() {
    delete lead_;
    delete shell_user_;
    delete operator_;
    delete keeper_;
    delete dev_;
    delete viewer_;
    delete gateway_;
  }

  // curl with the path exactly as written (no normalisation), as a raw client would send it.
  static RunResult raw_get(const std::string& token, const std::string& path) {
    return run_command({"curl", "-sS", "--path-as-is", "-k", "-o", "-", "-w", "\nHTTP %{http_code}",
                        "-H", "Authorization: Bearer " + token,
                        fmt::format("https://127.0.0.1:{}{}", gateway_->port(), path)});
  }

  static std::string wait_for_pending(const std::string& text) {
    const auto deadline = std::chrono::steady_clock::now() + 30s;
    while (std::chrono::steady_clock::now() < deadline) {
      auto listed = gateway_->cli({"review", "list", "--status", "pending", "--json", "--api",
                                   gateway_->api_url(), "--token", *lead_});
      if (listed.ok()) {
        const auto parsed = json::parse(listed.stdout_text);
        for (const auto& review : parsed.at("reviews").as_array()) {
          const auto& r = review.as_object();
          if (std::string(r.at("command").as_string()).find(text) != std::string::npos)
            return std::string(r.at("id").as_string());
        }
      }
      std::this_thread::sleep_for(100ms);
    }
    return {};
  }

  static KubeGateway* gateway_;
  static std::string* viewer_;
  static std::string* dev_;
  static std::string* keeper_;
  static std::string* operator_;
  // Without a list of programs, and with `unknown` and `forward`: attach, which names no
  // command, a shell that reads its commands from a terminal, and port forwarding are allowed.
  static std::string* shell_user_;
  static std::string* lead_;
  static std::string* admin_;
};

KubeGateway* KubernetesTest::gateway_ = nullptr;
std::string* KubernetesTest::viewer_ = nullptr;
std::string* KubernetesTest::dev_ = nullptr;
std::string* KubernetesTest::keeper_ = nullptr;
std::string* KubernetesTest::operator_ = nullptr;
std::string* KubernetesTest::shell_user_ = nullptr;
std::string* KubernetesTest::lead_ = nullptr;
std::string* KubernetesTest::admin_ = nullptr;

TEST_F(KubernetesTest, KubectlReadsThroughTheGatewayAndEachRequestIsJournaled) {
  auto version = gateway_->kubectl(*viewer_, {"version", "-o", "json"});
  ASSERT_TRUE(version.ok()) << version.describe();
  EXPECT_TRUE(contains(version.stdout_text, "serverVersion")) << version.stdout_text;
  auto pods = gateway_->kubectl(*viewer_, {"get", "pods"});
  ASSERT_TRUE(pods.ok()) << pods.describe();
  EXPECT_TRUE(contains(pods.stdout_text, "web-5b7c8d9f4-x2k9p")) << pods.stdout_text;
  auto all = gateway_->kubectl(*viewer_, {"get", "pods", "-A", "-o", "name"});
  ASSERT_TRUE(all.ok()) << all.describe();
  EXPECT_TRUE(contains(all.stdout_text, "pod/hello-7d4b9c5f6-abcde")) << all.stdout_text;
  const auto journal = gateway_->journal("GET /api/v1/namespaces/prod/pods");
  EXPECT_TRUE(contains(journal, "GET /api/v1/namespaces/prod/pods")) << journal;
  EXPECT_TRUE(contains(journal, "\"protocol\":\"kubernetes\"")) << journal;
  // The caller's token never reached the cluster: the gateway's own credential did.
  const auto upstream = gateway_->upstream_requests();
  EXPECT_FALSE(contains(upstream, *viewer_));
  EXPECT_TRUE(contains(upstream, "standin-cluster-credential"));
}

TEST_F(KubernetesTest, ValuesInObjectsAndLogsAreMasked) {
  auto config = gateway_->kubectl(*viewer_, {"get", "configmap", "app-config", "-o", "yaml"});
  ASSERT_TRUE(config.ok()) << config.describe();
  EXPECT_FALSE(contains(config.stdout_text, "alice@example.com")) << config.stdout_text;
  EXPECT_FALSE(contains(config.stdout_text, "123-45-6789")) << config.stdout_text;
  EXPECT_TRUE(contains(config.stdout_text, "app-config")) << config.stdout_text;
  auto logs = gateway_->kubectl(*viewer_, {"logs", "web-5b7c8d9f4-x2k9p"});
  ASSERT_TRUE(logs.ok()) << logs.describe();
  EXPECT_FALSE(logs.stdout_text.empty());
  EXPECT_FALSE(contains(logs.stdout_text, "alice@example.com")) << logs.stdout_text;
  EXPECT_FALSE(contains(logs.stdout_text, "123-45-6789")) << logs.stdout_text;
}

// kubectl logs -f: lines reach the caller as the API server writes them, masked one by one.
TEST_F(KubernetesTest, AFollowedLogStreamsMaskedLinesAsTheyCome) {
  auto follow = gateway_->start_kubectl(*viewer_, {"logs", "-f", "web-5b7c8d9f4-x2k9p"});
  // The stand-in writes a new line every 200 ms for 30 s: the third arrives long before the
  // stream ends, so it was not held back until the end.
  ASSERT_TRUE(follow.wait_for_output("tick 3: user [email] still active", 15s))
      << follow.stderr_text();
  EXPECT_FALSE(follow.try_wait()) << "the stream ended early";
  EXPECT_FALSE(contains(follow.stdout_text(), "alice@example.com")) << follow.stdout_text();
}

TEST_F(KubernetesTest, SecretsNeedTheirClassAndTheirValuesAreRedactedOtherwise) {
  auto refused = gateway_->kubectl(*dev_, {"get", "secret", "db-credentials", "-o", "json"});
  EXPECT_FALSE(refused.ok());
  EXPECT_TRUE(contains(refused.stderr_text, "Forbidden")) << refused.stderr_text;
  EXPECT_TRUE(contains(refused.stderr_text, "reading secrets is not allowed"))
      << refused.stderr_text;
  auto listed = gateway_->kubectl(*dev_, {"get", "secrets"});
  EXPECT_FALSE(listed.ok());
  // A Secret a write returns is redacted too, its last-applied copy included.
  auto created = gateway_->kubectl(*dev_, {"create", "secret", "generic", "made-here",
                                           "--from-literal=password=hunter2-xyz", "-o", "json"});
  ASSERT_TRUE(created.ok()) << created.describe();
  EXPECT_FALSE(contains(created.stdout_text, "aHVudGVyMi14eXo=")) << created.stdout_text;
  EXPECT_TRUE(contains(created.stdout_text, "W3JlZGFjdGVkXQ==")) << created.stdout_text;
  // With the class, the values are there.
  auto kept = gateway_->kubectl(
      *keeper_, {"get", "secret", "db-credentials", "-o", "jsonpath={.data.password}"});
  ASSERT_TRUE(kept.ok()) << kept.describe();
  EXPECT_EQ(kept.stdout_text, "czNjcjN0LXBhc3N3MHJk");
}

TEST_F(KubernetesTest, WritesAdministrationAndImpersonationAreRefused) {
  auto deleted = gateway_->kubectl(*viewer_, {"delete", "pod", "scratch", "-n", "default"});
  EXPECT_FALSE(deleted.ok());
  EXPECT_TRUE(contains(deleted.stderr_text,
                       "Error from server (Forbidden): portcullis: blocked "
                       "by rule \"viewers\""))
      << deleted.stderr_text;
  auto roles = gateway_->kubectl(*dev_, {"get", "clusterroles"});
  EXPECT_FALSE(roles.ok());
  EXPECT_TRUE(contains(roles.stderr_text, "administration")) << roles.stderr_text;
  auto as_admin = gateway_->kubectl(*dev_, {"get", "pods", "--as", "admin"});
  EXPECT_FALSE(as_admin.ok());
  EXPECT_TRUE(contains(as_admin.stderr_text, "Impersonate-User")) << as_admin.stderr_text;
  const auto upstream = gateway_->upstream_requests();
  EXPECT_FALSE(contains(upstream, "Impersonate")) << upstream;
  EXPECT_FALSE(contains(upstream, "\"DELETE\"")) << upstream;
  EXPECT_FALSE(contains(upstream, "clusterroles")) << upstream;
  const auto journal = gateway_->journal("DELETE /api/v1/namespaces/default/pods/scratch");
  EXPECT_TRUE(contains(journal, "DELETE /api/v1/namespaces/default/pods/scratch")) << journal;
}

TEST_F(KubernetesTest, PathEvasionsAreReadAsTheServerWouldOrRefused) {
  // An escaped letter is decoded: this is a read of secrets, refused to a viewer.
  auto escaped = raw_get(*viewer_, "/k8s/cluster/api/v1/namespaces/prod/%73ecrets");
  EXPECT_TRUE(contains(escaped.stdout_text, "HTTP 403")) << escaped.stdout_text;
  EXPECT_TRUE(contains(escaped.stdout_text, "reading secrets")) << escaped.stdout_text;
  for (const std::string path : {"/k8s/cluster/api/v1/namespaces/prod/pods/x/../../secrets",
                                 "/k8s/cluster/api/v1/namespaces/prod%2Fsecrets",
                                 "/k8s/cluster/api/v1/namespaces/prod/SECRETS",
                                 "/k8s/cluster//api/v1/namespaces/prod/secrets",
                                 "/k8s/cluster/api/v1/./namespaces/prod/secrets"}) {
    auto result = raw_get(*viewer_, path);
    EXPECT_TRUE(contains(result.stdout_text, "HTTP 400")) << path << ": " << result.stdout_text;
  }
  // None reached the API server (a keeper's reads of one Secret, in another test, may have).
  EXPECT_FALSE(
      contains(gateway_->upstream_requests(), "\"path\": \"/api/v1/namespaces/prod/secrets\""))
      << gateway_->upstream_requests();
  // Without a token, or with another's forged one, nothing is served.
  auto anonymous = run_command({"curl", "-sS", "-k", "-o", "-", "-w", "\nHTTP %{http_code}",
                                fmt::format("https://127.0.0.1:{}/k8s/cluster/api/v1/namespaces/"
                                            "prod/pods",
                                            gateway_->port())});
  EXPECT_TRUE(contains(anonymous.stdout_text, "HTTP 401")) << anonymous.stdout_text;
}

// Client libraries keep one connection per host: a request with another caller's token on the
// same connection is that caller's, decided under its own grant, never the first one's.
TEST_F(KubernetesTest, EachRequestOnAKeptConnectionIsItsOwnCallers) {
  const std::string url =
      fmt::format("https://127.0.0.1:{}/k8s/cluster/api/v1/namespaces/prod/secrets/db-credentials",
                  gateway_->port());
  // curl keeps the connection across --next: the second request rides the first's.
  auto run = run_command({"curl", "-sS",
                          "-k",   "-v",
                          "-o",   "/dev/null",
                          "-w",   "%{http_code}\n",
                          "-H",   "Authorization: Bearer " + *keeper_,
                          url,    "--next",
                          "-sS",  "-k",
                          "-o",   "/dev/null",
                          "-w",   "%{http_code}\n",
                          "-H",   "Authorization: Bearer " + *viewer_,
                          url,    "--next",
                          "-sS",  "-k",
                          "-o",   "/dev/null",
                          "-w",   "%{http_code}\n",
                          "-H",   "Authorization: Bearer " + *keeper_,
                          url});
  ASSERT_TRUE(run.ok()) << run.describe();
  EXPECT_EQ(run.stdout_text, "200\n403\n200\n");
  EXPECT_TRUE(contains(run.stderr_text, "Re-using existing connection")) << run.stderr_text;
}

TEST_F(KubernetesTest, AHeldDeleteRunsOnceApproved) {
  auto client = gateway_->start_kubectl(*dev_, {"delete", "deployment", "web"});
  const auto id = wait_for_pending("DELETE /apis/apps/v1/namespaces/prod/deployments/web");
  ASSERT_FALSE(id.empty()) << client.stderr_text();
  EXPECT_FALSE(contains(gateway_->upstream_requests(), "\"DELETE\""));
  EXPECT_TRUE(client.running());
  auto approved = gateway_->cli({"review", "approve", id, "--comment", "checked", "--api",
                                 gateway_->api_url(), "--token", *lead_});
  ASSERT_TRUE(approved.ok()) << approved.describe();
  const auto status = client.wait(30s);
  EXPECT_TRUE(status.success()) << status.describe() << client.stderr_text();
  EXPECT_TRUE(contains(client.stdout_text(), "deployment.apps \"web\" deleted"))
      << client.stdout_text();
  auto gone = gateway_->kubectl(*dev_, {"get", "deployment", "web"});
  EXPECT_FALSE(gone.ok());
  EXPECT_TRUE(contains(gone.stderr_text, "NotFound")) << gone.stderr_text;
}

TEST_F(KubernetesTest, AWatchStreamsEventsAsTheyHappen) {
  auto watch = gateway_->start_kubectl(*dev_, {"get", "configmaps", "-w", "-n", "default"});
  ASSERT_TRUE(watch.wait_for_output("settings", 30s)) << watch.stderr_text();
  auto created = gateway_->kubectl(*dev_, {"create", "configmap", "fresh", "-n", "default",
                                           "--from-literal=owner=bob@example.com"});
  ASSERT_TRUE(created.ok()) << created.describe();
  EXPECT_TRUE(watch.wait_for_output("fresh", 30s)) << watch.stdout_text() << watch.stderr_text();
  watch.terminate();
}

TEST_F(KubernetesTest, AClientLeavingAQuietWatchEndsItAtOnce) {
  auto watch = gateway_->start_kubectl(*viewer_, {"get", "serviceaccounts", "-w", "-n", "prod"});
  ASSERT_TRUE(watch.wait_for_output("default", 30s)) << watch.stderr_text();
  watch.terminate();
  // Nothing changes in the watched collection: only the client's leaving ends the stream.
  const auto journal = gateway_->journal("the client left during the response");
  EXPECT_TRUE(contains(journal, "the client left during the response")) << journal;
}

TEST_F(KubernetesTest, KillingTheSessionEndsItsWatch) {
  const auto kai = gateway_->token_for("kai", "devs");
  auto watch = gateway_->start_kubectl(kai, {"get", "pods", "-w", "-n", "default"});
  ASSERT_TRUE(watch.wait_for_output("hello-7d4b9c5f6-abcde", 30s)) << watch.stderr_text();
  // kubectl's connections are each a session; every one of kai's is killed, the watch's among
  // them (one that ended meanwhile, a discovery request's, is no longer there to kill).
  auto listed = gateway_->cli(
      {"sessions", "list", "--json", "--api", gateway_->api_url(), "--token", *admin_});
  ASSERT_TRUE(listed.ok()) << listed.describe();
  int killed = 0;
  const auto sessions = json::parse(listed.stdout_text);
  for (const auto& session : sessions.at("sessions").as_array()) {
    const auto& s = session.as_object();
    if (s.at("protocol").as_string() != "kubernetes" || s.at("subject").as_string() != "kai")
      continue;
    auto kill = gateway_->cli({"sessions", "kill", std::string(s.at("id").as_string()), "--api",
                               gateway_->api_url(), "--token", *admin_});
    if (kill.ok())
      ++killed;
    else
      EXPECT_TRUE(contains(kill.stderr_text, "no such session")) << kill.describe();
  }
  ASSERT_GT(killed, 0) << listed.stdout_text;
  const auto killed_at = std::chrono::steady_clock::now();
  watch.wait(30s);
  EXPECT_LT(std::chrono::steady_clock::now() - killed_at, 10s) << watch.stderr_text();
}

TEST_F(KubernetesTest, RevokingTheCallerEndsItsWatch) {
  const auto wanda = gateway_->token_for("wanda", "devs");
  auto watch = gateway_->start_kubectl(wanda, {"get", "pods", "-w", "-n", "default"});
  ASSERT_TRUE(watch.wait_for_output("hello-7d4b9c5f6-abcde", 30s)) << watch.stderr_text();
  auto revoked = gateway_->cli(
      {"revoke", "--subject", "wanda", "--api", gateway_->api_url(), "--token", *admin_});
  ASSERT_TRUE(revoked.ok()) << revoked.describe();
  EXPECT_TRUE(contains(revoked.stdout_text, "revoked wanda")) << revoked.stdout_text;
  // The watch's connection is closed at once (kubectl ends a closed watch as a finished one),
  // and the token opens no new session.
  const auto revoked_at = std::chrono::steady_clock::now();
  watch.wait(30s);
  EXPECT_LT(std::chrono::steady_clock::now() - revoked_at, 10s) << watch.stderr_text();
  auto again = gateway_->kubectl(wanda, {"get", "pods"});
  EXPECT_FALSE(again.ok()) << again.describe();
  EXPECT_TRUE(contains(again.stderr_text, "credentials of \"wanda\" were revoked"))
      << again.stderr_text;
}

TEST_F(KubernetesTest, ExecRunsListedProgramsWithTheirOutputMaskedAndExitStatusKept) {
  const std::string pod = "web-5b7c8d9f4-x2k9p";
  auto echoed =
      gateway_->kubectl(*operator_, {"exec", pod, "--", "echo", "mail alice@example.com"});
  ASSERT_TRUE(echoed.ok()) << echoed.describe();
  EXPECT_EQ(echoed.stdout_text, "mail [email]\n");
  // stdin reaches the command; what comes back is masked too.
  auto piped =
      gateway_->kubectl(*operator_, {"exec", "-i", pod, "--", "cat"}, "ssn 123-45-6789\nplain\n");
  ASSERT_TRUE(piped.ok()) << piped.describe();
  EXPECT_EQ(piped.stdout_text, "ssn [us_ssn]\nplain\n");
  auto failed = gateway_->kubectl(*operator_, {"exec", pod, "--", "sh", "-c", "exit 3"});
  EXPECT_EQ(failed.exit_code, 3) << failed.describe();
  // A program the access does not list never reaches the API server, however it is wrapped.
  for (const std::vector<std::string>& command :
       {std::vector<std::string>{"rm", "-rf", "/tmp/x"},
        std::vector<std::string>{"sh", "-c", "echo ok; r\"m\" -rf /tmp/x"}}) {
    std::vector<std::string> args{"exec", pod, "--"};
    args.insert(args.end(), command.begin(), command.end());
    auto refused = gateway_->kubectl(*operator_, args);
    EXPECT_FALSE(refused.ok());
    EXPECT_TRUE(contains(refused.stderr_text, "the program \"rm\" is not among the programs"))
        << refused.stderr_text;
  }
  // Without the class, no exec at all.
  auto viewer = gateway_->kubectl(*viewer_, {"exec", pod, "--", "echo", "hi"});
  EXPECT_FALSE(viewer.ok());
  EXPECT_TRUE(contains(viewer.stderr_text, "running commands in containers")) << viewer.stderr_text;
  EXPECT_FALSE(contains(gateway_->upstream_requests(), "command=rm"))
      << gateway_->upstream_requests();
  const auto journal = gateway_->journal("exit status 3");
  EXPECT_TRUE(contains(journal, "-- echo 'mail alice@example.com'")) << journal;
  EXPECT_TRUE(contains(journal, "exit status 3")) << journal;
}

// kubectl before 1.30 (Debian 12's among them) speaks exec and attach over SPDY/3.1, and newer
// ones when told so: decided, masked and recorded as over WebSocket.
TEST_F(KubernetesTest, ExecAndAttachOverSpdyAreMaskedAndRecordedAsOverWebSocket) {
  const std::map<std::string, std::string> spdy{{"KUBECTL_REMOTE_COMMAND_WEBSOCKETS", "false"}};
  const std::string pod = "web-5b7c8d9f4-x2k9p";
  auto echoed = gateway_->kubectl(*operator_, {"exec", pod, "--", "echo", "mail alice@example.com"},
                                  {}, spdy);
  ASSERT_TRUE(echoed.ok()) << echoed.describe();
  EXPECT_EQ(echoed.stdout_text, "mail [email]\n");
  auto piped = gateway_->kubectl(*operator_, {"exec", "-i", pod, "--", "cat"},
                                 "spdy 123-45-6789\nplain\n", spdy);
  ASSERT_TRUE(piped.ok()) << piped.describe();
  EXPECT_EQ(piped.stdout_text, "spdy [us_ssn]\nplain\n");
  auto failed = gateway_->kubectl(
      *operator_, {"exec", pod, "--", "sh", "-c", "echo spdy bob@example.org >&2; exit 4"}, {},
      spdy);
  EXPECT_EQ(failed.exit_code, 4) << failed.describe();
  EXPECT_TRUE(contains(failed.stderr_text, "spdy [email]")) << failed.stderr_text;
  EXPECT_FALSE(contains(failed.stderr_text, "bob@example.org")) << failed.stderr_text;
  auto attached =
      gateway_->kubectl(*shell_user_, {"attach", "-i", pod}, "to carol@example.net\n", spdy);
  ASSERT_TRUE(attached.ok()) << attached.describe();
  EXPECT_TRUE(contains(attached.stdout_text, "to [email]")) << attached.stdout_text;
  EXPECT_FALSE(contains(attached.stdout_text, "carol@")) << attached.stdout_text;
  // The rules hold whatever the stream protocol: a program not listed never reaches the server.
  auto refused =
      gateway_->kubectl(*operator_, {"exec", pod, "--", "rm", "-rf", "/tmp/y"}, {}, spdy);
  EXPECT_FALSE(refused.ok());
  EXPECT_TRUE(contains(refused.stderr_text, "the program \"rm\" is not among the programs"))
      << refused.stderr_text;
  const auto upstream = gateway_->upstream_requests();
  EXPECT_TRUE(contains(upstream, "\"Upgrade\": \"SPDY/3.1\"")) << upstream;
  // Only the stream protocols whose frames the gateway reads are offered to the server.
  EXPECT_FALSE(contains(upstream, "v3.channel.k8s.io")) << upstream;
  EXPECT_FALSE(contains(upstream, "/tmp/y")) << upstream;
  const auto journal = gateway_->journal("exit status 4");
  EXPECT_TRUE(contains(journal, "exit status 4")) << journal;
  // The exit status and the masked count, read from the SPDY streams.
  const auto line_start = journal.rfind('\n', journal.find("echo spdy bob@example.org"));
  const auto line = journal.substr(line_start + 1, journal.find('\n', line_start + 1) - line_start);
  EXPECT_TRUE(contains(line, "\"masked\":{\"email\":1}")) << line;
  EXPECT_TRUE(contains(line, "\"error\":\"exit status 4\"")) << line;
}

// kubectl exec -it wants a terminal: script(1) gives it one. The shell answers through the
// gateway, masked, with the terminal's size and the exit status, over WebSocket and over SPDY.
TEST_F(KubernetesTest, AnInteractiveExecGetsItsTerminalOverWebSocketAndSpdy) {
  const auto kubeconfig = gateway_->kubeconfig(*shell_user_);
  for (const std::string env : {"", "KUBECTL_REMOTE_COMMAND_WEBSOCKETS=false "}) {
    const std::string kubectl = fmt::format(
        "stty cols 100 rows 30; {}kubectl --kubeconfig '{}' --cache-dir '{}' exec -it "
        "web-5b7c8d9f4-x2k9p -- sh",
        env, kubeconfig.string(), (kubeconfig.parent_path() / "tty-cache").string());
    // What is typed waits for kubectl to have put its terminal in raw mode, and the input stays
    // open well after `exit 5` (its end would end the shell first on a slow run).
    const std::string typed =
        "(sleep 2; printf 'echo $((6*7)) dave@example.com; stty size\\n'; sleep 1; "
        "printf 'exit 5\\n'; sleep 5)";
    auto run =
        run_command({"bash", "-c",
                     fmt::format("{} | timeout 30 script -qec \"{}\" /dev/null", typed, kubectl)});
    EXPECT_EQ(run.exit_code, 5) << env << run.describe();
    EXPECT_TRUE(contains(run.stdout_text, "42 [email]")) << env << run.stdout_text;
    EXPECT_TRUE(contains(run.stdout_text, "30 100")) << env << run.stdout_text;
  }
}

// kubectl port-forward, over the WebSocket tunnel (kubectl 1.31 and newer) and over SPDY. The
// stand-in maps a pod's port to the same port on loopback, where the gateway's REST API listens.
TEST_F(KubernetesTest, PortForwardCarriesConnectionsToThePodOverWebSocketAndSpdy) {
  const std::string pod = "pod/web-5b7c8d9f4-x2k9p";
  const std::string request = "GET /api/v1/health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
  for (const std::string websockets : {"true", "false"}) {
    const uint16_t local = free_tcp_port();
    auto forward = gateway_->start_kubectl(
        *shell_user_, {"port-forward", pod, fmt::format("{}:{}", local, gateway_->http_port())},
        {{"KUBECTL_PORT_FORWARD_WEBSOCKETS", websockets}});
    ASSERT_TRUE(forward.wait_for_output("Forwarding from")) << websockets;
    // Two connections, one after the other, through the one tunnel.
    for (int connection = 0; connection < 2; ++connection)
      EXPECT_EQ(first_line_from(local, request).value_or("").rfind("HTTP/1.1 200", 0), 0U)
          << "websockets " << websockets << ", connection " << connection;
  }
  const auto upstream = gateway_->upstream_requests();
  EXPECT_TRUE(contains(upstream, "SPDY/3.1+portforward.k8s.io")) << upstream;
  EXPECT_TRUE(contains(upstream, "\"X-Stream-Protocol-Version\": \"portforward.k8s.io\""))
      << upstream;
  // Without the class, no tunnel.
  auto refused = gateway_->kubectl(*viewer_, {"port-forward", pod, "1:1"});
  EXPECT_FALSE(refused.ok());
  EXPECT_TRUE(contains(refused.stderr_text, "forward")) << refused.stderr_text;
  // One event a tunnel, once it has ended, counting the connections it carried.
  auto tunnels_recorded = [](const std::string& journal) {
    int count = 0;
    std::size_t at = 0;
    while ((at = journal.find("/portforward\"", at)) != std::string::npos) {
      const auto line_end = journal.find('\n', at);
      if (contains(journal.substr(at, line_end - at), "\"rows\":2")) ++count;
      at = line_end;
    }
    return count;
  };
  std::string journal;
  for (int attempt = 0; attempt < 100 && tunnels_recorded(journal) < 2; ++attempt) {
    if (attempt > 0) std::this_thread::sleep_for(100ms);
    journal = gateway_->journal("/portforward");
  }
  EXPECT_EQ(tunnels_recorded(journal), 2) << journal;
  EXPECT_TRUE(contains(journal, "\"classes\":[\"forward\"]")) << journal;
}

TEST_F(KubernetesTest, RevokingTheCallerEndsItsPortForward) {
  const auto pat = gateway_->token_for("pat", "shells");
  const uint16_t local = free_tcp_port();
  auto forward = gateway_->start_kubectl(pat, {"port-forward", "pod/web-5b7c8d9f4-x2k9p",
                                               fmt::format("{}:{}", local, gateway_->http_port())});
  ASSERT_TRUE(forward.wait_for_output("Forwarding from")) << forward.stderr_text();
  auto revoked = gateway_->cli(
      {"revoke", "--subject", "pat", "--api", gateway_->api_url(), "--token", *admin_});
  ASSERT_TRUE(revoked.ok()) << revoked.describe();
  // The tunnel is closed at once: kubectl loses its connection to the pod and ends.
  const auto revoked_at = std::chrono::steady_clock::now();
  forward.wait(30s);
  EXPECT_LT(std::chrono::steady_clock::now() - revoked_at, 10s) << forward.stderr_text();
  EXPECT_TRUE(contains(forward.stderr_text(), "lost connection to pod")) << forward.stderr_text();
}

// A raw SPDY client: output is masked on the stream it opened as stdout, and a stream whose
// purpose the gateway and the server could read differently ends the exec unrelayed.
TEST_F(KubernetesTest, ARawSpdyClientGetsNoOutputPastMasking) {
  const std::string client =
      std::string(PORTCULLIS_SOURCE_DIR) + "/tests/integration/kube_spdy_raw_client.py";
  const auto port = std::to_string(gateway_->port());
  auto plain = run_command({"python3", client, port, *operator_, "plain"});
  ASSERT_TRUE(plain.ok()) << plain.describe();
  const auto seen = json::parse(plain.stdout_text).as_object();
  EXPECT_EQ(seen.at("status").as_int64(), 101) << plain.stdout_text;
  EXPECT_TRUE(contains(plain.stdout_text, "raw [email]")) << plain.stdout_text;
  EXPECT_FALSE(contains(plain.stdout_text, "alice@")) << plain.stdout_text;

  auto ambiguous = run_command({"python3", client, port, *operator_, "ambiguous"});
  ASSERT_TRUE(ambiguous.ok()) << ambiguous.describe();
  const auto refused = json::parse(ambiguous.stdout_text).as_object();
  EXPECT_TRUE(refused.at("closed").as_bool()) << ambiguous.stdout_text;
  EXPECT_FALSE(contains(ambiguous.stdout_text, "alice@")) << ambiguous.stdout_text;
  const auto journal = gateway_->journal("names its streamtype twice");
  EXPECT_TRUE(contains(journal, "names its streamtype twice")) << journal;
}

TEST_F(KubernetesTest, ThePythonClientIsDecidedAndMaskedAsKubectlIs) {
  // Debian's python3-kubernetes, under Debian's own interpreter.
  const auto script =
      std::string(PORTCULLIS_SOURCE_DIR) + "/tests/integration/kubernetes_python_client.py";
  auto run = run_command({"/usr/bin/python3", script, gateway_->kubeconfig(*viewer_).string()});
  ASSERT_TRUE(run.ok()) << run.describe();
  const auto seen = json::parse(run.stdout_text).as_object();
  const auto& pods = seen.at("pods").as_array();
  EXPECT_NE(std::find(pods.begin(), pods.end(), json::value("db-0")), pods.end())
      << run.stdout_text;
  const std::string config(seen.at("config").as_object().at("customer.yaml").as_string());
  EXPECT_FALSE(contains(config, "alice@example.com")) << config;
  EXPECT_TRUE(contains(config, "[email]")) << config;
  const auto& secret = seen.at("secret").as_object();
  EXPECT_EQ(secret.at("status").as_int64(), 403);
  EXPECT_TRUE(contains(std::string(secret.at("body").at("message").as_string()),
                       "reading secrets is not allowed"))
      << run.stdout_text;
  EXPECT_EQ(seen.at("delete").at("status").as_int64(), 403) << run.stdout_text;
}

}  // namespace
}  // namespace portcullis::testing
