// Building the Kubernetes part of a Command: the classes a request needs, read once so that the
// decision point and the journal agree on them.
#include <algorithm>
#include <array>
#include <functional>
#include <string_view>

#include "policy/command.h"

namespace portcullis::policy {
namespace {

// API groups whose every request changes or reveals who may do what.
constexpr std::array<std::string_view, 3> kAdminGroups{
    "rbac.authorization.k8s.io", "certificates.k8s.io", "admissionregistration.k8s.io"};

// A caller asking what it may do itself (kubectl auth can-i, kubectl auth whoami): a read,
// although the API makes it a create.
bool is_self_review(const KubeCommand& request) {
  return (request.group == "authorization.k8s.io" &&
          (request.resource == "selfsubjectaccessreviews" ||
           request.resource == "selfsubjectrulesreviews")) ||
         (request.group == "authentication.k8s.io" && request.resource == "selfsubjectreviews");
}

bool is_admin_request(const KubeCommand& request) {
  if (std::find(kAdminGroups.begin(), kAdminGroups.end(), request.group) != kAdminGroups.end())
    return true;
  if (request.group.empty() && request.resource == "nodes") return true;
  if (request.group.empty() && request.resource == "serviceaccounts" &&
      request.subresource == "token")
    return true;
  // Token reviews and access reviews of other subjects tell who holds what.
  return (request.group == "authentication.k8s.io" || request.group == "authorization.k8s.io") &&
         !is_self_review(request);
}

bool is_read_verb(std::string_view verb) {
  return verb == "get" || verb == "list" || verb == "watch";
}

}  // namespace

bool KubeCommand::needs(std::string_view name) const {
  return std::binary_search(classes.begin(), classes.end(), name, std::less<>());
}

std::string KubeCommand::resource_key() const {
  if (subresource.empty() || subresource == "exec" || subresource == "attach") return resource;
  return resource + '/' + subresource;
}

KubeCommand read_kube_request(KubeCommand request, std::optional<std::string_view> exec_line) {
  std::vector<std::string> classes;
  if (!request.discovery) {
    const auto& verb = request.verb;
    if (verb == "exec" || verb == "attach") {
      classes.emplace_back("exec");
    } else if (verb == "portforward" || verb == "proxy") {
      classes.emplace_back("forward");
    } else if (is_admin_request(request)) {
      classes.emplace_back("admin");
    } else if (is_self_review(request)) {
      classes.emplace_back("read");
    } else if (is_read_verb(verb)) {
      classes.emplace_back(request.group.empty() && request.resource == "secrets" ? "secrets"
                                                                                  : "read");
    } else {
      classes.emplace_back("write");
    }
  }
  if (exec_line) {
    auto line = std::make_shared<const ShellCommand>(read_shell_command(*exec_line));
    // What the command line does beyond running a program (writing a file, opening a
    // connection, something the gateway cannot read) needs its class as over ssh.
    for (const auto& name : line->classes)
      if (name != "exec") classes.push_back(name);
    request.exec = std::move(line);
  }
  std::sort(classes.begin(), classes.end());
  classes.erase(std::unique(classes.begin(), classes.end()), classes.end());
  request.classes = std::move(classes);
  return request;
}

}  // namespace portcullis::policy
