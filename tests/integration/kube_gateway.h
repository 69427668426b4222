// KubeGateway: the gateway binary with a Kubernetes listener in front of the stand-in API
// server (tests/support/kube_standin_apiserver.py: no real Kubernetes API server is packaged
// for Debian, so the tests use this stand-in, written for them), its REST API on, and the real
// kubectl run through it with a kubeconfig per caller.
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "support/child_process.h"
#include "support/temp_dir.h"
#include "support/test_certificates.h"

namespace portcullis::testing {

struct KubeGatewayOptions {
  std::string access_section;      // replaces the default (below)
  std::string guardrails_section;  // a whole `guardrails:` section, or empty
  std::string masking_section;     // replaces the default (below)
  std::string extra_sections;      // whole top-level sections appended
};

// The default access: group `devs` may read and write on connection `cluster` (not read
// secrets), values masked with profile `pii`.
inline constexpr const char* kKubeDefaultAccess =
    "access:\n"
    "  - name: devs\n"
    "    who: { groups: [devs] }\n"
    "    connections: [cluster]\n"
    "    allow: [read, write]\n"
    "    masking: pii\n";

inline constexpr const char* kKubeDefaultMasking =
    "masking:\n"
    "  profiles:\n"
    "    pii:\n"
    "      detectors: [email, us_ssn, credit_card]\n";

class KubeGateway {
 public:
  explicit KubeGateway(KubeGatewayOptions options = {});
  ~KubeGateway();

  uint16_t port() const { return port_; }
  uint16_t http_port() const { return http_port_; }
  std::string api_url() const { return "http://127.0.0.1:" + std::to_string(http_port_); }
  ChildProcess& process() { return *process_; }

  // The portcullis CLI with this gateway's configuration.
  RunResult cli(std::vector<std::string> args) const;
  std::string token_for(const std::string& subject, const std::string& group) const;
  // A kubeconfig for `token` (the gateway's own certificate as the CA), written once.
  std::filesystem::path kubeconfig(const std::string& token,
                                   const std::string& connection = "cluster") const;
  // kubectl with that kubeconfig, a cache of its own, then `args`; `env` is added to its
  // environment (KUBECTL_REMOTE_COMMAND_WEBSOCKETS=false has exec speak SPDY).
  RunResult kubectl(const std::string& token, const std::vector<std::string>& args,
                    const std::string& stdin_data = {},
                    const std::map<std::string, std::string>& env = {}) const;
  // The same in the background (a watch, a held request, a log stream).
  ChildProcess start_kubectl(const std::string& token, const std::vector<std::string>& args,
                             const std::map<std::string, std::string>& env = {}) const;
  // The journal's statements as JSON lines, once one holds `awaited` (or after 15 s).
  std::string journal(const std::string& awaited = {}) const;
  // What reached the stand-in API server: one JSON line per request.
  std::string upstream_requests() const;

 private:
  std::string render(const KubeGatewayOptions& options) const;
  ChildOptions kubectl_child(const std::string& token, const std::vector<std::string>& args) const;

  TempDir dir_{"portcullis-kube-gateway"};
  TestCertificates certificates_;
  std::optional<ChildProcess> standin_;
  uint16_t standin_port_ = 0;
  uint16_t port_ = 0;
  uint16_t http_port_ = 0;
  std::filesystem::path config_file_;
  std::filesystem::path gateway_ca_;
  mutable int kubeconfigs_ = 0;
  std::optional<ChildProcess> process_;
};

}  // namespace portcullis::testing
