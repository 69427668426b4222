// The labelled statement corpus (corpus.yaml), run table-driven: every case is classified with
// PostgreSQL's grammar and decided under the reference policy, for a caller with a read-only
// grant and one with a DBA grant. Each TEST checks one family of facts over all the cases and
// reports every mismatch, then prints `FIELD: N/M match`.
#include <gtest/gtest.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <fstream>
#include <iostream>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <sstream>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "config/loader.h"
#include "identity/identity.h"
#include "policy/access.h"
#include "policy/command.h"
#include "policy/decide.h"
#include "sql/classifier.h"
#include "sql/statement.h"

#ifndef SQL_CORPUS_FILE
#error "SQL_CORPUS_FILE must name corpus.yaml"
#endif

namespace portcullis::sql {
namespace {

using Strings = std::vector<std::string>;

struct Case {
  std::size_t index = 0;
  std::string sql;
  std::optional<Strings> kinds;
  std::optional<Strings> inner_kinds;
  std::optional<Strings> classes;
  std::optional<Strings> tables_read;
  std::optional<Strings> tables_written;
  std::optional<Strings> functions;
  std::optional<bool> where_absent;
  std::optional<bool> lifts_read_only;
  std::optional<std::string> setting;
  std::optional<std::string> prepared_name;
  std::optional<std::string> reader;  // "allow", "deny:RULE", "review:RULE" or "skip"
  std::optional<std::string> dba;

  std::shared_ptr<const Classification> classification;
};

struct Corpus {
  std::string error;  // why the corpus could not be loaded; empty when it was
  std::string policy_text;
  config::ConfigPtr config;
  std::vector<Case> cases;
};

std::optional<Strings> optional_list(const YAML::Node& node, const char* key) {
  const YAML::Node value = node[key];
  if (!value) return std::nullopt;
  Strings out;
  for (const auto& item : value) out.push_back(item.as<std::string>());
  return out;
}

template <class T>
std::optional<T> optional_scalar(const YAML::Node& node, const char* key) {
  const YAML::Node value = node[key];
  if (!value) return std::nullopt;
  return value.as<T>();
}

Corpus load_corpus() {
  Corpus corpus;
  YAML::Node root;
  try {
    root = YAML::LoadFile(SQL_CORPUS_FILE);
  } catch (const YAML::Exception& e) {
    corpus.error = std::string(SQL_CORPUS_FILE) + ": " + e.what();
    return corpus;
  }
  if (!root["policy"] || !root["cases"]) {
    corpus.error = std::string(SQL_CORPUS_FILE) + ": needs the keys policy and cases";
    return corpus;
  }
  corpus.policy_text = root["policy"].as<std::string>();
  auto config = config::parse_config(corpus.policy_text, SQL_CORPUS_FILE);
  if (!config.ok()) {
    corpus.error = "the reference policy does not load:\n" + config.error().message;
    return corpus;
  }
  corpus.config = *config;

  std::size_t index = 0;
  for (const auto& node : root["cases"]) {
    Case c;
    c.index = ++index;
    try {
      c.sql = node["sql"].as<std::string>();
      c.kinds = optional_list(node, "kinds");
      c.inner_kinds = optional_list(node, "inner_kinds");
      c.classes = optional_list(node, "classes");
      c.tables_read = optional_list(node, "tables_read");
      c.tables_written = optional_list(node, "tables_written");
      c.functions = optional_list(node, "functions");
      c.where_absent = optional_scalar<bool>(node, "where_absent");
      c.lifts_read_only = optional_scalar<bool>(node, "lifts_read_only");
      c.setting = optional_scalar<std::string>(node, "setting");
      c.prepared_name = optional_scalar<std::string>(node, "prepared_name");
      c.reader = optional_scalar<std::string>(node, "reader");
      c.dba = optional_scalar<std::string>(node, "dba");
    } catch (const YAML::Exception& e) {
      corpus.error = "case " + std::to_string(c.index) + ": " + e.what();
      return corpus;
    }
    c.classification = std::make_shared<const Classification>(classify(c.sql));
    corpus.cases.push_back(std::move(c));
  }
  return corpus;
}

const Corpus& corpus() {
  static const Corpus loaded = load_corpus();
  return loaded;
}

// One line per field family, printed when the whole program ends.
class Summary : public ::testing::Environment {
 public:
  static void record(const std::string& field, std::size_t matched, std::size_t total) {
    lines()[field] = {matched, total};
  }

  void TearDown() override {
    for (const auto& [field, count] : lines()) {
      std::cout << field << ": " << count.first << "/" << count.second << " match\n";
    }
  }

 private:
  static std::map<std::string, std::pair<std::size_t, std::size_t>>& lines() {
    static std::map<std::string, std::pair<std::size_t, std::size_t>> map;
    return map;
  }
};

[[maybe_unused]] ::testing::Environment* const summary_environment =
    ::testing::AddGlobalTestEnvironment(new Summary);

std::string join(const Strings& items) {
  std::string out = "[";
  for (std::size_t i = 0; i < items.size(); ++i) {
    if (i > 0) out += ", ";
    out += items[i];
  }
  return out + "]";
}

Strings as_set(Strings items) {
  std::sort(items.begin(), items.end());
  items.erase(std::unique(items.begin(), items.end()), items.end());
  return items;
}

std::string describe(const Case& c) {
  std::ostringstream out;
  out << "case " << c.index << " `" << c.sql << "`";
  if (!c.classification->parse_error.empty()) {
    out << " (parse error: " << c.classification->parse_error << ")";
  }
  return out.str();
}

// Counts the cases that state a field and those that match, and reports each mismatch.
class Tally {
 public:
  explicit Tally(std::string field) : field_(std::move(field)) {}
  ~Tally() { Summary::record(field_, matched_, total_); }
  Tally(const Tally&) = delete;
  Tally& operator=(const Tally&) = delete;

  void check(const Case& c, const std::string& expected, const std::string& actual) {
    ++total_;
    if (expected == actual) {
      ++matched_;
    } else {
      ADD_FAILURE() << describe(c) << "\n  " << field_ << ": expected " << expected << "\n  "
                    << std::string(field_.size(), ' ') << "  actual   " << actual;
    }
  }

  void check(const Case& c, const Strings& expected, const Strings& actual) {
    check(c, join(expected), join(actual));
  }

 private:
  std::string field_;
  std::size_t matched_ = 0;
  std::size_t total_ = 0;
};

Strings statement_field(const Classification& cl, std::string Statement::*field) {
  Strings out;
  for (const auto& s : cl.statements) out.push_back(s.*field);
  return out;
}

Strings union_of(const Classification& cl, Strings Statement::*field) {
  Strings out;
  for (const auto& s : cl.statements) out.insert(out.end(), (s.*field).begin(), (s.*field).end());
  return as_set(std::move(out));
}

bool any_of(const Classification& cl, bool Statement::*field) {
  return std::any_of(cl.statements.begin(), cl.statements.end(),
                     [&](const Statement& s) { return s.*field; });
}

std::string first_of(const Classification& cl, std::string Statement::*field) {
  return cl.statements.empty() ? "(no statement)" : cl.statements.front().*field;
}

std::string flag(bool value) {
  return value ? "true" : "false";
}

class CorpusTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_TRUE(corpus().error.empty()) << corpus().error; }
};

TEST_F(CorpusTest, HasEnoughCasesAndTheReferencePolicyLoads) {
  EXPECT_GE(corpus().cases.size(), 150u);
  std::set<std::string> seen;
  for (const auto& c : corpus().cases) {
    EXPECT_TRUE(seen.insert(c.sql).second) << "duplicate " << describe(c);
    for (const auto* decision : {&c.reader, &c.dba}) {
      if (!decision->has_value()) continue;
      const std::string& d = **decision;
      EXPECT_TRUE(d == "allow" || d == "skip" || d.starts_with("deny:") || d.starts_with("review:"))
          << describe(c) << ": decision " << d;
    }
  }
}

TEST_F(CorpusTest, Kinds) {
  Tally tally("kinds");
  for (const auto& c : corpus().cases) {
    if (c.kinds) tally.check(c, *c.kinds, statement_field(*c.classification, &Statement::kind));
  }
}

TEST_F(CorpusTest, InnerKinds) {
  Tally tally("inner_kinds");
  for (const auto& c : corpus().cases) {
    if (c.inner_kinds) {
      tally.check(c, *c.inner_kinds, statement_field(*c.classification, &Statement::inner_kind));
    }
  }
}

TEST_F(CorpusTest, Classes) {
  Tally tally("classes");
  for (const auto& c : corpus().cases) {
    if (!c.classes) continue;
    Strings actual;
    for (auto name : class_names(c.classification->classes())) actual.emplace_back(name);
    tally.check(c, as_set(*c.classes), as_set(std::move(actual)));
  }
}

TEST_F(CorpusTest, Tables) {
  Tally read("tables_read");
  Tally written("tables_written");
  for (const auto& c : corpus().cases) {
    if (c.tables_read) {
      read.check(c, as_set(*c.tables_read), union_of(*c.classification, &Statement::tables_read));
    }
    if (c.tables_written) {
      written.check(c, as_set(*c.tables_written),
                    union_of(*c.classification, &Statement::tables_written));
    }
  }
}

TEST_F(CorpusTest, Functions) {
  Tally tally("functions");
  for (const auto& c : corpus().cases) {
    if (c.functions) {
      tally.check(c, as_set(*c.functions), union_of(*c.classification, &Statement::functions));
    }
  }
}

TEST_F(CorpusTest, Flags) {
  Tally where("where_absent");
  Tally lifts("lifts_read_only");
  Tally setting("setting");
  Tally prepared("prepared_name");
  for (const auto& c : corpus().cases) {
    const Classification& cl = *c.classification;
    if (c.where_absent) {
      where.check(c, flag(*c.where_absent), flag(any_of(cl, &Statement::where_absent)));
    }
    if (c.lifts_read_only) {
      lifts.check(c, flag(*c.lifts_read_only), flag(any_of(cl, &Statement::lifts_read_only)));
    }
    if (c.setting) setting.check(c, *c.setting, first_of(cl, &Statement::setting));
    if (c.prepared_name) {
      prepared.check(c, *c.prepared_name, first_of(cl, &Statement::prepared_name));
    }
  }
}

identity::Identity person(std::string subject, std::string group) {
  identity::Identity id;
  id.subject = std::move(subject);
  id.groups = {std::move(group)};
  return id;
}

std::string render(const policy::Decision& decision) {
  if (decision.verdict == policy::Verdict::allow) return "allow";
  return std::string(policy::to_string(decision.verdict)) + ":" + decision.rule;
}

void check_decisions(const std::string& field, const identity::Identity& caller,
                     const std::string& expected_rule, std::optional<std::string> Case::*expected) {
  const config::Config& config = *corpus().config;
  auto grant = policy::select_grant(config, caller, "app-db");
  ASSERT_TRUE(grant.ok()) << grant.error().message;
  EXPECT_EQ(grant->rule, expected_rule);

  Tally tally(field);
  for (const auto& c : corpus().cases) {
    const auto& want = c.*expected;
    if (!want || *want == "skip") continue;
    policy::Command command;
    command.protocol = "postgres";
    command.connection = "app-db";
    command.text = c.sql;
    command.via = "query";
    command.sql()->classification = c.classification;
    tally.check(c, *want, render(policy::decide(config, caller, *grant, command)));
  }
}

TEST_F(CorpusTest, ReaderDecisions) {
  check_decisions("reader", person("rita", "engineering"), "engineers-read", &Case::reader);
}

TEST_F(CorpusTest, DbaDecisions) {
  check_decisions("dba", person("dan", "dba"), "dba", &Case::dba);
}

}  // namespace
}  // namespace portcullis::sql
