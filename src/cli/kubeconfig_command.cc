// `portcullis kubeconfig --connection C`: prints a kubeconfig that points kubectl at the
// gateway's Kubernetes listener for connection C, with the caller's token and the CA that
// validates the listener (the `tls` section's certificate, or the one the gateway made on its
// first start). Read from the configuration file, as `token issue` is.
#include <fmt/format.h>
#include <openssl/evp.h>

#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>

#include "cli/api_client.h"
#include "cli/commands.h"
#include "proto/kubernetes/listener_certificate.h"

namespace portcullis::cli {
namespace {

struct KubeconfigArgs {
  std::string connection;
  std::string server;  // https://HOST:PORT as callers reach the listener
  std::string token;
};

std::string base64(std::string_view data) {
  std::string out(4 * ((data.size() + 2) / 3) + 1, '\0');
  const int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                reinterpret_cast<const unsigned char*>(data.data()),
                                static_cast<int>(data.size()));
  out.resize(static_cast<std::size_t>(n));
  return out;
}

// The certificates of a PEM file (a key beside them is left out).
std::string certificates_of(const std::filesystem::path& file) {
  std::FILE* in = std::fopen(file.c_str(), "r");
  if (!in) fail(1, fmt::format("cannot read {}", file.string()));
  std::string pem;
  char buffer[4096];
  for (std::size_t n; (n = std::fread(buffer, 1, sizeof buffer, in)) > 0;) pem.append(buffer, n);
  std::fclose(in);
  std::string certificates;
  constexpr std::string_view kBegin = "-----BEGIN CERTIFICATE-----";
  constexpr std::string_view kEnd = "-----END CERTIFICATE-----";
  for (auto at = pem.find(kBegin); at != std::string::npos; at = pem.find(kBegin, at)) {
    const auto end = pem.find(kEnd, at);
    if (end == std::string::npos) break;
    certificates.append(pem, at, end + kEnd.size() - at);
    certificates += '\n';
    at = end;
  }
  if (certificates.empty()) fail(1, fmt::format("{} holds no certificate", file.string()));
  return certificates;
}

// YAML's double-quoted scalar: what a token or name may hold is escaped.
std::string yaml_quoted(std::string_view text) {
  std::string out = "\"";
  for (char c : text) {
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  return out + '"';
}

void run_kubeconfig(const GlobalOptions& options, const KubeconfigArgs& args) {
  const config::ConfigPtr config = load_config_or_exit(options);
  const config::ConnectionConfig* connection = config->find_connection(args.connection);
  if (!connection || connection->kind != config::ConnectionKind::kubernetes)
    fail(1, fmt::format("no kubernetes connection named \"{}\"", args.connection));
  const config::Endpoint* listen = config->listen.find("kubernetes");
  if (!listen) fail(1, "the configuration has no kubernetes listener (listen.kubernetes)");
  std::string server = args.server;
  if (server.empty()) {
    // A wildcard address is reached through loopback here; callers elsewhere give --server.
    std::string host = listen->host;
    if (host == "0.0.0.0" || host.empty()) host = "127.0.0.1";
    if (host == "::") host = "::1";
    server = host.find(':') != std::string::npos
                 ? fmt::format("https://[{}]:{}", host, listen->port)
                 : fmt::format("https://{}:{}", host, listen->port);
  }
  while (!server.empty() && server.back() == '/') server.pop_back();
  std::string token = args.token;
  if (token.empty())
    if (const char* env = std::getenv("PORTCULLIS_TOKEN")) token = env;
  if (token.empty()) fail(2, "give the caller's token with --token or PORTCULLIS_TOKEN");
  const auto ca_file =
      config->tls ? config->tls->cert_file : proto::kubernetes::listener_certificate_file(*config);
  const std::string ca = certificates_of(ca_file);
  const std::string name = fmt::format("portcullis-{}", args.connection);
  fmt::print(
      "apiVersion: v1\n"
      "kind: Config\n"
      "clusters:\n"
      "- name: {name}\n"
      "  cluster:\n"
      "    server: {server}\n"
      "    certificate-authority-data: {ca}\n"
      "users:\n"
      "- name: {name}\n"
      "  user:\n"
      "    token: {token}\n"
      "contexts:\n"
      "- name: {name}\n"
      "  context:\n"
      "    cluster: {name}\n"
      "    user: {name}\n"
      "current-context: {name}\n",
      fmt::arg("name", yaml_quoted(name)),
      fmt::arg("server", yaml_quoted(fmt::format("{}/k8s/{}", server, args.connection))),
      fmt::arg("ca", base64(ca)), fmt::arg("token", yaml_quoted(token)));
  std::fflush(stdout);
}

}  // namespace

void add_kubeconfig_command(CLI::App& app, GlobalOptions& options) {
  auto args = std::make_shared<KubeconfigArgs>();
  auto* command = app.add_subcommand(
      "kubeconfig", "Print a kubeconfig for kubectl through the gateway to a connection");
  command->add_option("--connection", args->connection, "The kubernetes connection")->required();
  command->add_option("--server", args->server,
                      "https://HOST:PORT of the listener as callers reach it (default: "
                      "listen.kubernetes)");
  command->add_option("--token", args->token, "The caller's token (default: PORTCULLIS_TOKEN)");
  command->callback([&options, args] { run_kubeconfig(options, *args); });
}

}  // namespace portcullis::cli
