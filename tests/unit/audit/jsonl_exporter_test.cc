// The JSONL exporter: every record and checkpoint once, in order, across restarts and crashes.
#include "audit/jsonl_exporter.h"

#include <gtest/gtest.h>

#include <boost/json/parse.hpp>
#include <fstream>
#include <thread>

#include "audit/record.h"
#include "journal_fixture.h"

namespace portcullis::audit::testing {
namespace {

using namespace std::chrono_literals;

// A line of the export file: a record's seq, or a checkpoint's as "checkpoint <seq>".
std::string describe(const std::string& line) {
  const auto value = boost::json::parse(line).as_object();
  if (const auto* checkpoint = value.if_contains("checkpoint"))
    return "checkpoint " + std::to_string(checkpoint->as_object().at("seq").as_int64());
  return std::to_string(value.at("seq").as_int64());
}

// Records 1..`records` in order, each checkpoint seq in `checkpoints` right after its record.
std::vector<std::string> expected_lines(int records, const std::vector<int>& checkpoints) {
  std::vector<std::string> out;
  for (int seq = 1; seq <= records; ++seq) {
    out.push_back(std::to_string(seq));
    for (const int c : checkpoints)
      if (c == seq) out.push_back("checkpoint " + std::to_string(seq));
  }
  return out;
}

class JsonlExporterTest : public JournalFixture {
 protected:
  JsonlExporterOptions options() const {
    JsonlExporterOptions options;
    options.path = export_file_;
    options.poll_interval = 20ms;
    options.checkpoint_every = kCheckpointEvery;
    return options;
  }

  std::unique_ptr<JsonlExporter> start_exporter() {
    auto exporter = JsonlExporter::start(open_store(), options());
    if (!exporter) {
      ADD_FAILURE() << exporter.error().message;
      return nullptr;
    }
    return std::move(*exporter);
  }

  std::vector<std::string> lines() const {
    std::ifstream in(export_file_);
    std::vector<std::string> out;
    for (std::string line; std::getline(in, line);) out.push_back(line);
    return out;
  }

  std::vector<std::string> described_lines() const {
    std::vector<std::string> out;
    for (const auto& line : lines()) out.push_back(describe(line));
    return out;
  }

  std::filesystem::path export_file_ = dir_ / "export" / "audit.jsonl";
};

TEST_F(JsonlExporterTest, WritesEveryRecordWithEachCheckpointAfterTheRecordItPins) {
  write_events(session_events({}));
  auto exporter = start_exporter();
  ASSERT_TRUE(exporter);
  exporter->stop();
  EXPECT_EQ(exporter->exported_seq(), 26);
  EXPECT_EQ(described_lines(), expected_lines(26, {10, 20, 26}));

  // Each record line is to_json of the stored record, each checkpoint line checkpoint_to_json.
  const auto file = lines();
  std::size_t line = 0;
  ASSERT_TRUE(open_store()->scan(1, [&](const store::JournalEntry& entry) {
    while (line < file.size() && file[line].starts_with("{\"checkpoint\"")) ++line;
    EXPECT_EQ(file.at(line++), to_json(entry.record));
    return true;
  }));
  auto checkpoints = open_store()->checkpoints();
  ASSERT_TRUE(checkpoints);
  EXPECT_EQ(file[10], checkpoint_to_json((*checkpoints)[0]));
}

TEST_F(JsonlExporterTest, FollowsRecordsAsTheyAreCommitted) {
  auto exporter = start_exporter();
  ASSERT_TRUE(exporter);
  auto journal = start_journal();
  for (const auto& event : session_events({.statements = 7})) journal->append(event);
  const auto deadline = std::chrono::steady_clock::now() + 10s;
  while (exporter->exported_seq() < 16 && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(10ms);
  EXPECT_EQ(exporter->exported_seq(), 16);
  EXPECT_EQ(described_lines(), expected_lines(16, {10}));
  // The journal signs its last checkpoint when it closes; the exporter's last look finds it.
  journal->close();
  exporter->stop();
  EXPECT_EQ(described_lines(), expected_lines(16, {10, 16}));
  EXPECT_TRUE(exporter->healthy()) << exporter->last_error();
}

TEST_F(JsonlExporterTest, ResumesAfterARestartWithoutGapsOrDuplicates) {
  write_events(session_events({.session = "first"}));
  start_exporter()->stop();
  // The gateway restarts: more records, then the exporter starts again on the same file.
  write_events(session_events({.session = "second"}));
  auto exporter = start_exporter();
  ASSERT_TRUE(exporter);
  exporter->stop();
  EXPECT_EQ(exporter->exported_seq(), 52);
  EXPECT_EQ(described_lines(), expected_lines(52, {10, 20, 26, 30, 40, 50, 52}));
}

TEST_F(JsonlExporterTest, DropsATornLastLineAndWritesItsRecordAgain) {
  write_events(session_events({.statements = 4}));  // 10 records
  start_exporter()->stop();
  // A crash in the middle of a write leaves half a line.
  const std::string full = lines().back();
  {
    std::ofstream out(export_file_, std::ios::app);
    out << "{\"seq\":11,\"id\":\"s1.";
  }
  write_events(session_events({.session = "s2", .statements = 4}));
  start_exporter()->stop();
  EXPECT_EQ(described_lines(), expected_lines(20, {10, 20}));
  // The file reads back as checkpoints with no error.
  auto checkpoints = read_exported_checkpoints(export_file_);
  ASSERT_TRUE(checkpoints) << checkpoints.error().message;
  EXPECT_EQ(checkpoints->size(), 2u);
}

TEST_F(JsonlExporterTest, WritesTheLastCheckpointMissedBeforeARestart) {
  write_events(session_events({}));
  start_exporter()->stop();
  // The exporter died after writing record 26 but before the checkpoint the journal signed
  // at close.
  auto file = lines();
  ASSERT_EQ(describe(file.back()), "checkpoint 26");
  file.pop_back();
  {
    std::ofstream out(export_file_, std::ios::trunc);
    for (const auto& line : file) out << line << '\n';
  }
  start_exporter()->stop();
  EXPECT_EQ(described_lines(), expected_lines(26, {10, 20, 26}));
}

TEST_F(JsonlExporterTest, RefusesAFileAheadOfTheJournal) {
  write_events(session_events({}));
  start_exporter()->stop();
  exec_sql("DELETE FROM audit_results WHERE seq > 20; DELETE FROM audit_events WHERE seq > 20;");
  auto exporter = JsonlExporter::start(open_store(), options());
  ASSERT_FALSE(exporter);
  EXPECT_TRUE(Contains(exporter.error().message,
                       "the file holds records up to seq 26, which the "
                       "journal does not have"));
}

TEST_F(JsonlExporterTest, RefusesAFileWhoseLastRecordTheJournalHoldsWithAnotherHash) {
  write_events(session_events({}));
  start_exporter()->stop();
  exec_sql("UPDATE audit_events SET hash = '00' WHERE seq = 26");
  auto exporter = JsonlExporter::start(open_store(), options());
  ASSERT_FALSE(exporter);
  EXPECT_TRUE(Contains(exporter.error().message, "record 26 in the file has another hash"));
  // Nothing was written on the way out.
  EXPECT_EQ(described_lines(), expected_lines(26, {10, 20, 26}));
}

TEST_F(JsonlExporterTest, RefusesASecondExporterOnTheSameFile) {
  auto first = start_exporter();
  ASSERT_TRUE(first);
  auto second = JsonlExporter::start(open_store(), options());
  ASSERT_FALSE(second);
  EXPECT_TRUE(Contains(second.error().message, "another exporter is writing this file"));
}

TEST_F(JsonlExporterTest, RefusesAFileItDidNotWrite) {
  std::filesystem::create_directories(export_file_.parent_path());
  std::ofstream(export_file_) << "not json\n";
  auto exporter = JsonlExporter::start(open_store(), options());
  ASSERT_FALSE(exporter);
  EXPECT_TRUE(Contains(exporter.error().message, "not a file the exporter wrote"));
}

TEST(ReadExportedCheckpoints, ReturnsTheCheckpointLinesAndSkipsRecords) {
  portcullis::testing::TempDir dir("portcullis-audit-");
  const auto path = dir / "copy.jsonl";
  Checkpoint checkpoint{10,   std::string(64, 'b'), "2026-11-25T21:04:05.000000000Z", "gw", "kid",
                        "sig"};
  std::ofstream(path) << "{\"seq\":10,\"hash\":\"" << checkpoint.hash << "\"}\n"
                      << checkpoint_to_json(checkpoint) << "\n"
                      << "{\"checkpoint\":{\"seq\":20,";
  auto read = read_exported_checkpoints(path);
  ASSERT_TRUE(read) << read.error().message;
  ASSERT_EQ(read->size(), 1u);
  EXPECT_EQ((*read)[0].seq, 10);
  EXPECT_EQ((*read)[0].hash, checkpoint.hash);
  EXPECT_EQ((*read)[0].time, checkpoint.time);
  EXPECT_EQ((*read)[0].instance, "gw");
  EXPECT_EQ((*read)[0].key_id, "kid");
  EXPECT_EQ((*read)[0].signature, "sig");
}

TEST(ReadExportedCheckpoints, NamesTheLineThatIsNotJson) {
  portcullis::testing::TempDir dir("portcullis-audit-");
  const auto path = dir / "copy.jsonl";
  std::ofstream(path) << "{\"seq\":1,\"hash\":\"00\"}\n{oops\n{\"seq\":2,\"hash\":\"00\"}\n";
  auto read = read_exported_checkpoints(path);
  ASSERT_FALSE(read);
  EXPECT_EQ(read.error().message, path.string() + ":2: not a JSON object");
}

}  // namespace
}  // namespace portcullis::audit::testing
