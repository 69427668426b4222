// Lexical path normalisation and the paths a command names.
#include "shell/paths.h"

namespace portcullis::shell {

std::string normalise_path(std::string_view path) {
  if (path.empty()) return {};
  bool absolute = path.front() == '/';
  std::vector<std::string_view> parts;
  std::size_t i = 0;
  while (i < path.size()) {
    std::size_t e = path.find('/', i);
    if (e == std::string_view::npos) e = path.size();
    std::string_view part = path.substr(i, e - i);
    i = e + 1;
    if (part.empty() || part == ".") continue;
    if (part == "..") {
      if (!parts.empty() && parts.back() != "..") {
        parts.pop_back();
      } else if (!absolute) {
        parts.push_back(part);
      }
      continue;
    }
    parts.push_back(part);
  }
  std::string out;
  out.reserve(path.size() + 1);
  if (absolute) out.push_back('/');
  for (std::size_t k = 0; k < parts.size(); ++k) {
    if (k > 0) out.push_back('/');
    out.append(parts[k].data(), parts[k].size());
  }
  if (out.empty()) out.push_back('.');
  return out;
}

std::vector<std::string> paths_of(const SimpleCommand& command) {
  std::vector<std::string> out;
  for (std::size_t i = 1; i < command.argv.size(); ++i) {
    const std::string& v = command.argv[i].value;
    out.push_back(normalise_path(v));
    std::size_t eq = v.find('=');
    if (eq != std::string::npos && eq + 1 < v.size()) {
      out.push_back(normalise_path(std::string_view(v).substr(eq + 1)));
    }
  }
  for (const Redirection& r : command.redirections) {
    if (r.kind == RedirectionKind::duplicate || r.kind == RedirectionKind::here_document ||
        r.kind == RedirectionKind::here_string) {
      continue;
    }
    out.push_back(normalise_path(r.target.value));
  }
  return out;
}

}  // namespace portcullis::shell
