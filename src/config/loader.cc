// Loading portcullis.yaml: the file, the YAML document, and the sections read in the order
// their cross-references need. Each section has its own file (sections.h).
#include "config/loader.h"

#include <fmt/format.h>
#include <yaml-cpp/eventhandler.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cerrno>
#include <fstream>
#include <sstream>
#include <system_error>

#include "config/sections.h"

namespace portcullis::config {
namespace fs = std::filesystem;

namespace {

// A configuration file is small; anything larger is almost certainly the wrong file.
constexpr std::uintmax_t kMaxConfigFileSize = 16u << 20;

// Sections are read in dependency order (connections and masking profiles before the rules
// that name them), whatever their order in the file.
void read_sections(Reader& r, const YAML::Node& root, const MaskingVocabulary& masking,
                   Config& config) {
  if (root.IsDefined() && !root.IsNull() && !root.IsMap()) {
    r.problem(std::max(line_of(root), 1),
              fmt::format("expected a map of settings at the top level, got {}", kind_of(root)));
    return;
  }
  Fields top =
      r.fields(Value{root, 1, ""},
               {"listen", "tls", "limits", "state", "instance", "identity", "api", "connections",
                "access", "guardrails", "masking", "audit", "reviews", "notifications"});
  read_listen(r, top.find("listen"), config.listen);
  if (const Value* v = top.find("tls")) config.tls = read_tls(r, *v);
  if (const Value* v = top.find("limits")) read_limits(r, *v, config.limits);
  read_state(r, top.find("state"), config.state_url);
  read_instance(r, top.find("instance"), config.instance);
  read_identity(r, top.find("identity"), config.identity);
  if (const Value* v = top.find("api")) read_api(r, *v, config.api);
  if (const Value* v = top.find("connections")) read_connections(r, *v, config.connections);
  if (const Value* v = top.find("masking")) read_masking(r, *v, masking, config.masking);
  RuleNames rule_names;
  if (const Value* v = top.find("access")) read_access(r, *v, rule_names, config);
  if (const Value* v = top.find("guardrails")) read_guardrails(r, *v, rule_names, config);
  if (const Value* v = top.find("audit")) read_audit(r, *v, config.audit);
  default_journal_dir(r, config.state_url, config.audit);
  if (const Value* v = top.find("reviews")) read_reviews(r, *v, config.reviews);
  if (const Value* v = top.find("notifications")) read_notifications(r, *v, config.notifications);
  check_listeners(r, config, top.find("listen"), top.find("tls"));
}

// Records where a document starts and ignores its content.
class DocumentStart : public YAML::EventHandler {
 public:
  void OnDocumentStart(const YAML::Mark& mark) override { mark_ = mark; }
  void OnDocumentEnd() override {}
  void OnNull(const YAML::Mark&, YAML::anchor_t) override {}
  void OnAlias(const YAML::Mark&, YAML::anchor_t) override {}
  void OnScalar(const YAML::Mark&, const std::string&, YAML::anchor_t,
                const std::string&) override {}
  void OnSequenceStart(const YAML::Mark&, const std::string&, YAML::anchor_t,
                       YAML::EmitterStyle::value) override {}
  void OnSequenceEnd() override {}
  void OnMapStart(const YAML::Mark&, const std::string&, YAML::anchor_t,
                  YAML::EmitterStyle::value) override {}
  void OnMapEnd() override {}

  const YAML::Mark& mark() const { return mark_; }

 private:
  YAML::Mark mark_ = YAML::Mark::null_mark();
};

// YAML::Load reads the first document only; whatever follows it is either a second document
// or text the parser could not place (a stray `,`). YAML::LoadAll is not used to find out: it
// never ends on such text, producing empty documents forever (yaml-cpp 0.7).
void check_single_document(const std::string& text, Problems& problems) {
  std::istringstream in(text);
  YAML::Parser parser(in);
  DocumentStart first;
  if (!parser.HandleNextDocument(first)) return;
  DocumentStart second;
  if (!parser.HandleNextDocument(second)) return;
  const YAML::Mark& mark = second.mark();
  const int line = mark.is_null() ? 0 : mark.line + 1;
  const bool marker =
      !mark.is_null() && mark.pos >= 0 &&
      std::string_view(text).substr(static_cast<std::size_t>(mark.pos)).starts_with("---");
  if (marker) {
    problems.add(line, "only one YAML document is allowed in the file");
  } else {
    const char c = mark.is_null() || static_cast<std::size_t>(mark.pos) >= text.size()
                       ? ' '
                       : text[static_cast<std::size_t>(mark.pos)];
    problems.add(line, fmt::format("YAML syntax error: unexpected \"{}\"", c));
  }
}

}  // namespace

Result<ConfigPtr> parse_config(std::string_view yaml_text, const fs::path& file,
                               const MaskingVocabulary& masking) {
  Problems problems(file.string());
  try {
    std::error_code ec;
    fs::path absolute = fs::absolute(file, ec);
    if (ec) absolute = file;
    absolute = absolute.lexically_normal();

    const std::string text(yaml_text);
    const YAML::Node root = YAML::Load(text);
    check_single_document(text, problems);
    auto config = std::make_shared<Config>();
    config->source_file = absolute;
    Reader reader(problems, absolute.parent_path());
    read_sections(reader, root, masking, *config);
    if (!problems.empty()) return make_error(problems.report());
    return ConfigPtr(std::move(config));
  } catch (const YAML::Exception& e) {
    const std::string message = fmt::format("YAML syntax error: {}", e.msg);
    problems.add(e.mark.is_null() ? 0 : e.mark.line + 1, message);
    return make_error(problems.report());
  } catch (const std::exception& e) {
    problems.add(0, e.what());
    return make_error(problems.report());
  }
}

Result<ConfigPtr> load_config(const fs::path& file, const MaskingVocabulary& masking) {
  const std::string name = file.string();
  std::error_code ec;
  if (fs::is_directory(file, ec))
    return make_error(fmt::format("{}: is a folder, not a file", name));
  std::ifstream in(file, std::ios::binary);
  if (!in) return make_error(fmt::format("{}: cannot read: {}", name, errno_message(errno)));
  std::string text;
  char buffer[65536];
  while (in.read(buffer, sizeof buffer) || in.gcount() > 0) {
    text.append(buffer, static_cast<std::size_t>(in.gcount()));
    if (text.size() > kMaxConfigFileSize) {
      return make_error(fmt::format("{}: larger than {} MiB; is this the right file?", name,
                                    kMaxConfigFileSize >> 20));
    }
  }
  if (in.bad()) return make_error(fmt::format("{}: cannot read: {}", name, errno_message(errno)));
  return parse_config(text, file, masking);
}

}  // namespace portcullis::config
