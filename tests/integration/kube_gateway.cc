// Starting the stand-in API server and the gateway with a Kubernetes listener in front of it.
#include "kube_gateway.h"

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <fstream>
#include <thread>

#include "gateway_fixture.h"
#include "support/free_port.h"

namespace portcullis::testing {
namespace {

// The stand-in's bearer token: the gateway's credential for the cluster, never the caller's.
constexpr std::string_view kClusterToken = "standin-cluster-credential-7f3a";

std::filesystem::path standin_script() {
  return std::filesystem::path(PORTCULLIS_SOURCE_DIR) / "tests/support/kube_standin_apiserver.py";
}

}  // namespace

KubeGateway::KubeGateway(KubeGatewayOptions options) {
  std::ofstream(dir_.path() / "cluster-token") << kClusterToken;
  ChildOptions standin;
  standin.argv = {"python3", standin_script().string(),
                  "--cert",  certificates_.cert_file().string(),
                  "--key",   certificates_.key_file().string(),
                  "--token", std::string(kClusterToken),
                  "--log",   (dir_.path() / "upstream-requests.jsonl").string(),
                  "--port",  "0"};
  standin_.emplace(std::move(standin));
  if (!standin_->wait_for_output("PORT ", std::chrono::seconds(30))) {
    ADD_FAILURE() << "the stand-in API server did not start:\n" << standin_->stderr_text();
    throw std::runtime_error("stand-in API server did not start");
  }
  // "PORT n" once the listening socket is open.
  for (int i = 0; i < 50 && standin_port_ == 0; ++i) {
    const std::string out = standin_->stdout_text();
    const auto at = out.find("PORT ");
    const auto end = out.find('\n', at);
    if (at != std::string::npos && end != std::string::npos)
      standin_port_ = static_cast<uint16_t>(std::stoi(out.substr(at + 5, end - at - 5)));
    else
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  port_ = free_tcp_port();
  do http_port_ = free_tcp_port();
  while (http_port_ == port_);
  config_file_ = dir_.path() / "portcullis.yaml";
  std::ofstream(config_file_) << render(options);

  ChildOptions child;
  child.argv = {
      portcullis_binary().string(), "--config", config_file_.string(), "serve", "--threads", "2"};
  process_.emplace(std::move(child));
  if (!process_->wait_for_output("protocol=kubernetes", std::chrono::seconds(30))) {
    ADD_FAILURE() << "gateway did not start:\n" << process_->stderr_text();
    throw std::runtime_error("gateway did not start");
  }
  // kubectl trusts the gateway's own certificate, made on first start (its key stays in the
  // file the gateway keeps).
  const std::string pem = read_text_file(dir_.path() / "state/kubernetes_listener.pem");
  const auto begin = pem.find("-----BEGIN CERTIFICATE-----");
  const std::string end_marker = "-----END CERTIFICATE-----";
  const auto end = pem.find(end_marker);
  if (begin == std::string::npos || end == std::string::npos) {
    ADD_FAILURE() << "no listener certificate in state/kubernetes_listener.pem";
    return;
  }
  gateway_ca_ = dir_.path() / "gateway-ca.crt";
  std::ofstream(gateway_ca_) << pem.substr(begin, end + end_marker.size() - begin) << "\n";
}

KubeGateway::~KubeGateway() {
  if (process_) process_->terminate();
  if (standin_) standin_->terminate();
}

std::string KubeGateway::render(const KubeGatewayOptions& options) const {
  return fmt::format(
      "listen:\n"
      "  kubernetes: 127.0.0.1:{port}\n"
      "  http: 127.0.0.1:{http}\n"
      "state:\n"
      "  url: sqlite://state/portcullis.db\n"
      "identity:\n"
      "  signing_key_file: state/signing.key\n"
      "connections:\n"
      "  - name: cluster\n"
      "    kind: kubernetes\n"
      "    address: https://127.0.0.1:{standin}\n"
      "    ca_file: {ca}\n"
      "    credentials:\n"
      "      default: {{ token_file: {token} }}\n"
      "{access}"
      "{guardrails}"
      "{masking}"
      "audit:\n"
      "  segment_size: 256KiB\n"
      "{extra}",
      fmt::arg("port", port_), fmt::arg("http", http_port_), fmt::arg("standin", standin_port_),
      fmt::arg("ca", certificates_.ca_file().string()),
      fmt::arg("token", (dir_.path() / "cluster-token").string()),
      fmt::arg("access",
               options.access_section.empty() ? kKubeDefaultAccess : options.access_section),
      fmt::arg("guardrails", options.guardrails_section),
      fmt::arg("masking",
               options.masking_section.empty() ? kKubeDefaultMasking : options.masking_section),
      fmt::arg("extra", options.extra_sections));
}

RunResult KubeGateway::cli(std::vector<std::string> args) const {
  return portcullis_cli(config_file_, std::move(args));
}

std::string KubeGateway::token_for(const std::string& subject, const std::string& group) const {
  return gateway_token(config_file_, subject, group);
}

std::filesystem::path KubeGateway::kubeconfig(const std::string& token,
                                              const std::string& connection) const {
  const auto file = dir_.path() / fmt::format("kubeconfig-{}", ++kubeconfigs_);
  std::ofstream(file) << fmt::format(
      "apiVersion: v1\n"
      "kind: Config\n"
      "clusters:\n"
      "- name: gateway\n"
      "  cluster:\n"
      "    server: https://127.0.0.1:{port}/k8s/{connection}\n"
      "    certificate-authority: {ca}\n"
      "users:\n"
      "- name: caller\n"
      "  user:\n"
      "    token: {token}\n"
      "contexts:\n"
      "- name: gateway\n"
      "  context: {{ cluster: gateway, user: caller, namespace: prod }}\n"
      "current-context: gateway\n",
      fmt::arg("port", port_), fmt::arg("connection", connection),
      fmt::arg("ca", gateway_ca_.string()), fmt::arg("token", token));
  return file;
}

ChildOptions KubeGateway::kubectl_child(const std::string& token,
                                        const std::vector<std::string>& args) const {
  ChildOptions child;
  child.argv = {"kubectl", "--kubeconfig", kubeconfig(token).string(), "--cache-dir",
                (dir_.path() / "kubectl-cache").string()};
  child.argv.insert(child.argv.end(), args.begin(), args.end());
  child.env = {{"HOME", dir_.path().string()}};
  child.unset_env = {"KUBECONFIG"};
  return child;
}

RunResult KubeGateway::kubectl(const std::string& token, const std::vector<std::string>& args,
                               const std::string& stdin_data,
                               const std::map<std::string, std::string>& env) const {
  auto child = kubectl_child(token, args);
  child.env.insert(env.begin(), env.end());
  if (!stdin_data.empty()) child.stdin_data = stdin_data;
  return run_command(std::move(child), std::chrono::seconds(90));
}

ChildProcess KubeGateway::start_kubectl(const std::string& token,
                                        const std::vector<std::string>& args,
                                        const std::map<std::string, std::string>& env) const {
  auto child = kubectl_child(token, args);
  child.env.insert(env.begin(), env.end());
  return ChildProcess(std::move(child));
}

std::string KubeGateway::journal(const std::string& awaited) const {
  return journal_statements(config_file_, awaited);
}

std::string KubeGateway::upstream_requests() const {
  return read_text_file(dir_.path() / "upstream-requests.jsonl");
}

}  // namespace portcullis::testing
