// SessionRecorder against a real journal (SQLite in a temporary folder): what a session's
// decisions and results become in the journal, whatever the protocol.
#include "gateway/session_recorder.h"

#include <gtest/gtest.h>

#include <chrono>

#include "audit/journal.h"
#include "identity/signing_key.h"
#include "store/journal_store.h"
#include "support/temp_dir.h"

namespace portcullis::gateway {
namespace {

using store::Field;

policy::Decision decision(policy::Verdict verdict, std::string rule, std::string message = {}) {
  policy::Decision d;
  d.verdict = verdict;
  d.rule = std::move(rule);
  d.message = std::move(message);
  return d;
}

std::string error_text(RefusalReason reason, std::string_view message) {
  return fmt::format("E-{}: {}", to_string(reason), message);
}

class SessionRecorderTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto key = identity::SigningKey::generate();
    ASSERT_TRUE(key.ok());
    auto store = store::open_journal_store(url_, {});
    ASSERT_TRUE(store.ok()) << store.error().message;
    audit::JournalOptions options;
    options.dir = dir_.path() / "journal";
    auto journal = audit::Journal::start(std::move(*store), std::move(*key), options);
    ASSERT_TRUE(journal.ok()) << journal.error().message;
    journal_ = std::move(*journal);
    recorder_.attach(journal_.get(), "s1", "127.0.0.1:5000", "line", &error_text);
    recorder_.set_caps({.max_rows = 2, .max_bytes = 1 << 20});
  }

  // Every record, in order, once the journal has committed them.
  std::vector<store::JournalRecord> records() {
    journal_->close();
    auto store = store::open_journal_store(url_, {});
    store::JournalFilter all;
    return *(*store)->search(all);
  }
  std::string field(const store::JournalRecord& record, Field f) {
    return record[f].value_or("<none>");
  }

  static policy::Command command(std::string text) {
    policy::Command c;
    c.protocol = "line";
    c.connection = "app-db";
    c.text = text;
    auto classification = std::make_shared<sql::Classification>();
    sql::Statement statement;
    statement.kind = "select";
    statement.text = text;
    classification->statements.push_back(statement);
    c.sql()->classification = classification;
    return c;
  }

  portcullis::testing::TempDir dir_{"portcullis-recorder-"};
  std::string url_ = "sqlite://" + (dir_.path() / "state.db").string();
  std::shared_ptr<audit::Journal> journal_;
  SessionRecorder recorder_;
  identity::Identity alice_ = [] {
    identity::Identity who;
    who.subject = "alice";
    who.groups = {"testers"};
    return who;
  }();
};

TEST_F(SessionRecorderTest, RecordsTheSessionUnderItsProtocol) {
  recorder_.connected(alice_, "app-db");
  recorder_.disconnected(10, 20, std::chrono::milliseconds(5));
  const auto all = records();
  ASSERT_EQ(all.size(), 2u);
  EXPECT_EQ(field(all[0], Field::event), "connect");
  EXPECT_EQ(field(all[0], Field::protocol), "line");
  EXPECT_EQ(field(all[0], Field::subject), "alice");
  EXPECT_EQ(field(all[0], Field::verdict), "allow");
  EXPECT_EQ(field(all[1], Field::event), "disconnect");
  EXPECT_EQ(field(all[1], Field::bytes_in), "10");
}

TEST_F(SessionRecorderTest, RefusedConnectNamesTheClaimedSubjectAndWhy) {
  recorder_.connect_refused("mallory", "app-db", "authentication failed: bad signature");
  const auto all = records();
  ASSERT_EQ(all.size(), 1u);
  EXPECT_EQ(field(all[0], Field::subject), "mallory");
  EXPECT_EQ(field(all[0], Field::verdict), "deny");
  EXPECT_EQ(field(all[0], Field::error), "authentication failed: bad signature");
}

TEST_F(SessionRecorderTest, RefusalIsWrittenAsTheProtocolWritesIt) {
  recorder_.connected(alice_, "app-db");
  const auto denied = decision(policy::Verdict::deny, "no-drops", "no");
  recorder_.decided(command("drop table t"), denied, false, 1, {});
  const auto all = records();
  ASSERT_EQ(all.size(), 2u);
  EXPECT_EQ(field(all[1], Field::verdict), "deny");
  EXPECT_EQ(field(all[1], Field::rule), "no-drops");
  EXPECT_EQ(field(all[1], Field::error), "E-denied: no");
}

TEST_F(SessionRecorderTest, ForwardedStatementGetsItsResultWithRowsKeptUpToTheCap) {
  recorder_.connected(alice_, "app-db");
  const auto allowed = decision(policy::Verdict::allow, "testers");
  recorder_.decided(command("select a, b from t"), allowed, true, 1, {});
  const SessionRecorder::ResultColumn columns[] = {{.name = "a", .binary = false},
                                                   {.name = "b", .binary = true}};
  recorder_.on_columns(columns);
  for (int i = 0; i < 3; ++i) {
    const std::optional<std::string_view> row[] = {"x", std::nullopt};
    recorder_.on_row(row, 10, 15);
  }
  EXPECT_FALSE(recorder_.keeping_rows()) << "the third row is over max_rows";
  recorder_.on_complete(3);
  const auto all = records();
  ASSERT_EQ(all.size(), 3u);
  const auto& result = all[2];
  EXPECT_EQ(field(result, Field::event), "result");
  EXPECT_EQ(field(result, Field::statement), field(all[1], Field::id));
  EXPECT_EQ(field(result, Field::rows), "3");
  EXPECT_EQ(field(result, Field::bytes_out), "45");
  auto store = store::open_journal_store(url_, {});
  auto rows = (*store)->result_rows(std::stoll(field(result, Field::seq)));
  ASSERT_TRUE(rows.ok() && rows->has_value());
  EXPECT_NE((*rows)->find("\"truncated\":true"), std::string::npos) << **rows;
  EXPECT_NE((*rows)->find("[\"x\",null]"), std::string::npos) << **rows;
}

TEST_F(SessionRecorderTest, StatementsLeftOpenAtTheEndOfTheirBatchDidNotRun) {
  recorder_.connected(alice_, "app-db");
  const auto allowed = decision(policy::Verdict::allow, "testers");
  recorder_.decided(command("select 1"), allowed, true, 1, {});
  recorder_.decided(command("select 2"), allowed, true, 1, {});
  recorder_.on_error("E1: first failed");
  recorder_.on_batch_done(1);
  const auto all = records();
  ASSERT_EQ(all.size(), 5u);
  EXPECT_EQ(field(all[3], Field::error), "E1: first failed");
  EXPECT_EQ(field(all[4], Field::error), "not run: an earlier statement in the same batch failed");
}

TEST_F(SessionRecorderTest, WithheldResultIsRecordedAsWithheldNotWithItsError) {
  recorder_.connected(alice_, "app-db");
  const auto allowed = decision(policy::Verdict::allow, "testers");
  recorder_.decided(command("select secret"), allowed, true, 1, {});
  recorder_.on_withheld("a binary value cannot be masked");
  recorder_.on_error("E2: an error text holding alice@example.com");
  const auto all = records();
  ASSERT_EQ(all.size(), 3u);
  EXPECT_EQ(field(all[2], Field::error),
            "E-denied: result withheld: a binary value cannot be masked");
}

TEST_F(SessionRecorderTest, HeldCommandCarriesItsReviewStep) {
  recorder_.connected(alice_, "app-db");
  const auto review = decision(policy::Verdict::review, "deletes");
  const SessionRecorder::ReviewStep step{
      .verdict = "review_pending", .review_id = "r-1", .reviewer = {}, .error = {}, .runs = false};
  recorder_.decided(command("delete from t"), review, false, 1, {}, &step);
  const auto all = records();
  ASSERT_EQ(all.size(), 2u);
  EXPECT_EQ(field(all[1], Field::verdict), "review_pending");
  EXPECT_EQ(field(all[1], Field::statement), "r-1");
}

TEST_F(SessionRecorderTest, DisconnectEndsStatementsTheBackendNeverAnswered) {
  recorder_.connected(alice_, "app-db");
  const auto allowed = decision(policy::Verdict::allow, "testers");
  recorder_.decided(command("select pg_sleep(100)"), allowed, true, 1, {});
  recorder_.disconnected(0, 0, std::chrono::seconds(1));
  const auto all = records();
  ASSERT_EQ(all.size(), 4u);
  EXPECT_EQ(field(all[2], Field::event), "result");
  EXPECT_EQ(field(all[2], Field::error),
            "E-connection_lost: the connection ended before the statement did");
}

TEST_F(SessionRecorderTest, ShellCommandIsOneEventWithItsKindProgramsAndClasses) {
  recorder_.connected(alice_, "web-1");
  policy::Command line;
  line.protocol = "ssh";
  line.connection = "web-1";
  line.text = "sudo rm -rf /tmp/x > /tmp/log; ls | grep y";
  line.detail = policy::read_shell_command(line.text);
  recorder_.decided(line, decision(policy::Verdict::deny, "no-rm", "no"), false, 1, {});
  policy::Command upload;
  upload.protocol = "ssh";
  upload.connection = "web-1";
  upload.text = "sftp write /srv/app/data.csv";
  upload.detail = policy::transfer_files(true, {"/srv/app/data.csv"});
  recorder_.decided(upload, decision(policy::Verdict::allow, "oncall"), true, 2, {});
  const auto all = records();
  ASSERT_EQ(all.size(), 3u);
  EXPECT_EQ(field(all[1], Field::command), line.text);
  EXPECT_EQ(field(all[1], Field::kinds), R"(["exec","sudo","rm","ls","grep"])");
  EXPECT_EQ(field(all[1], Field::classes), R"(["exec","file_write"])");
  EXPECT_EQ(field(all[1], Field::verdict), "deny");
  EXPECT_EQ(field(all[1], Field::error), "E-denied: no");
  EXPECT_EQ(field(all[2], Field::kinds), R"(["sftp_write"])");
  EXPECT_EQ(field(all[2], Field::classes), R"(["file_write","sftp"])");
  EXPECT_EQ(field(all[2], Field::verdict), "allow");
}

}  // namespace
}  // namespace portcullis::gateway
