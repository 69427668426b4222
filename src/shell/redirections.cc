// Redirection kinds. A target is compared after lexical normalisation, so `/dev//null` is
// still /dev/null and `/dev/./tcp/h/p` still a socket.
#include "shell/redirections.h"

#include <string>

#include "shell/paths.h"

namespace portcullis::shell {
namespace {

bool is_output_operator(std::string_view op) {
  return op == ">" || op == ">>" || op == ">|" || op == "&>" || op == "&>>" || op == "<>";
}

// N, N- or -: the target of >& and <& that names a descriptor rather than a file.
bool names_descriptor(std::string_view target) {
  if (target == "-") return true;
  if (!target.empty() && target.back() == '-') target.remove_suffix(1);
  if (target.empty()) return false;
  for (char c : target) {
    if (c < '0' || c > '9') return false;
  }
  return true;
}

bool is_discard_path(std::string_view path) {
  return path == "/dev/null" || path == "/dev/stdout" || path == "/dev/stderr";
}

}  // namespace

bool is_network_path(std::string_view path) {
  auto check = [](std::string_view p) {
    return p.starts_with("/dev/tcp/") || p.starts_with("/dev/udp/");
  };
  if (check(path)) return true;
  std::string normal = normalise_path(path);
  return check(normal) || normal == "/dev/tcp" || normal == "/dev/udp";
}

RedirectionKind classify_redirection(std::string_view op, const Word& target) {
  if (op == "<<" || op == "<<-") return RedirectionKind::here_document;
  if (op == "<<<") return RedirectionKind::here_string;
  // Checked on the value as written even when it is not static: `/dev/tcp/$HOST/80` is a socket.
  if (is_network_path(target.value)) return RedirectionKind::network;
  if (op == ">&" || op == "<&") {
    if (target.is_static && names_descriptor(target.value)) return RedirectionKind::duplicate;
    // bash reads `>& FILE` as `&> FILE`; a target not known until run time may be either.
    if (op == "<&") return RedirectionKind::input;
  } else if (!is_output_operator(op)) {
    return RedirectionKind::input;
  }
  if (!target.is_static) return RedirectionKind::output;
  if (is_discard_path(normalise_path(target.value))) return RedirectionKind::discard;
  return RedirectionKind::output;
}

bool writes_files(const SimpleCommand& command) {
  for (const Redirection& r : command.redirections) {
    if (r.kind == RedirectionKind::output) return true;
  }
  return false;
}

bool opens_network(const SimpleCommand& command) {
  for (const Redirection& r : command.redirections) {
    if (r.kind == RedirectionKind::network) return true;
  }
  return false;
}

}  // namespace portcullis::shell
