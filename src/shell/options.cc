// Option words of a command: as written, and with short clusters split.
#include "shell/options.h"

#include <algorithm>

namespace portcullis::shell {

CommandOptions options_of(const SimpleCommand& command) {
  CommandOptions out;
  for (std::size_t i = 1; i < command.argv.size(); ++i) {
    const Word& w = command.argv[i];
    if (!w.is_static) continue;
    std::string_view v = w.value;
    if (v == "--") break;
    if (v.size() < 2 || v[0] != '-') continue;
    if (v.starts_with("--")) {
      std::string name(v.substr(0, v.find('=')));
      out.written.push_back(name);
      out.expanded.push_back(std::move(name));
      continue;
    }
    out.written.emplace_back(v);
    for (std::size_t k = 1; k < v.size(); ++k) {
      out.expanded.push_back(std::string{'-', v[k]});
    }
  }
  return out;
}

bool has_option(const CommandOptions& options, std::string_view rule_option) {
  bool single_dash_word = rule_option.size() > 2 && rule_option[0] == '-' && rule_option[1] != '-';
  const std::vector<std::string>& list = single_dash_word ? options.written : options.expanded;
  return std::find(list.begin(), list.end(), rule_option) != list.end();
}

}  // namespace portcullis::shell
