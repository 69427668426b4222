// audit verify against each way of tampering with the journal's SQLite file: the first bad seq
// it names, and why.
#include <fmt/format.h>
#include <gtest/gtest.h>

#include "audit/checkpoint.h"
#include "audit/jsonl_exporter.h"
#include "audit/record.h"
#include "journal_fixture.h"

namespace portcullis::audit::testing {
namespace {

// One session of 26 records (statement k at seq 2k, its result at 2k+1), checkpoints at seq
// 10, 20 and 26 (the last one signed when the journal closed).
class VerifyTest : public JournalFixture {
 protected:
  void SetUp() override { write_events(session_events({})); }

  // The journal's checkpoints copied off the machine by the JSONL exporter.
  std::vector<Checkpoint> exported_checkpoints() {
    JsonlExporterOptions options;
    options.path = dir_ / "audit.jsonl";
    options.checkpoint_every = kCheckpointEvery;
    auto exporter = JsonlExporter::start(open_store(), options);
    EXPECT_TRUE(exporter) << exporter.error().message;
    (*exporter)->stop();
    auto checkpoints = read_exported_checkpoints(options.path);
    EXPECT_TRUE(checkpoints) << checkpoints.error().message;
    return *checkpoints;
  }

  // Every column of a record but seq, quoted for SQL.
  static std::string record_columns_but_seq() {
    std::string columns;
    for (std::size_t i = 1; i < kFieldCount; ++i)
      columns += fmt::format("\"{}\", ", field_info(static_cast<Field>(i)).name);
    return columns + "prev_hash, hash";
  }
};

void expect_failure(const VerifyReport& report, std::int64_t seq, std::string_view why) {
  EXPECT_FALSE(report.ok);
  EXPECT_EQ(report.first_bad_seq, seq) << report.message;
  EXPECT_TRUE(Contains(report.message, why));
}

TEST_F(VerifyTest, PassesAnUntouchedJournal) {
  const VerifyReport report = verify();
  EXPECT_TRUE(report.ok) << report.message;
  EXPECT_EQ(report.records_checked, 26);
  EXPECT_EQ(report.checkpoints_checked, 3);
  EXPECT_EQ(report.last_seq, 26);
  EXPECT_EQ(report.last_checkpoint_seq, 26);
  EXPECT_EQ(report.unanchored_records, 0);
  EXPECT_EQ(report.first_bad_seq, 0);
}

TEST_F(VerifyTest, PassesAnEmptyJournal) {
  exec_sql("DELETE FROM audit_results; DELETE FROM audit_events; DELETE FROM audit_checkpoints;");
  const VerifyReport report = verify();
  EXPECT_TRUE(report.ok) << report.message;
  EXPECT_EQ(report.records_checked, 0);
}

TEST_F(VerifyTest, CountsRecordsAfterTheLastCheckpointAsUnanchoredWithoutFailing) {
  // A gateway that crashed before signing its last checkpoint.
  exec_sql("DELETE FROM audit_checkpoints WHERE seq = 26");
  const VerifyReport report = verify();
  EXPECT_TRUE(report.ok) << report.message;
  EXPECT_EQ(report.last_checkpoint_seq, 20);
  EXPECT_EQ(report.unanchored_records, 6);
}

TEST_F(VerifyTest, NamesTheRecordWhoseTextFieldWasChanged) {
  exec_sql("UPDATE audit_events SET command = 'SELECT 1' WHERE seq = 8");
  expect_failure(verify(), 8, "record 8 does not match its hash");
}

TEST_F(VerifyTest, NamesTheRecordWhoseNumberWasChanged) {
  exec_sql("UPDATE audit_events SET \"rows\" = 0 WHERE seq = 9");
  expect_failure(verify(), 9, "record 9 does not match its hash");
}

TEST_F(VerifyTest, NamesTheRecordWhoseFieldWasRemoved) {
  exec_sql("UPDATE audit_events SET rule = NULL WHERE seq = 14");
  expect_failure(verify(), 14, "record 14 does not match its hash");
}

TEST_F(VerifyTest, NamesTheRecordWhoseKeptResultRowsWereChanged) {
  exec_sql("UPDATE audit_results SET body = replace(body, 'a***', 'alice') WHERE seq = 7");
  expect_failure(verify(), 7, "the result rows kept for record 7 do not match its results_sha256");
}

TEST_F(VerifyTest, NamesTheRecordWhoseKeptResultRowsWereDeleted) {
  exec_sql("DELETE FROM audit_results WHERE seq = 11");
  expect_failure(verify(), 11, "the result rows kept for record 11 are missing");
}

TEST_F(VerifyTest, NamesADeletedRecord) {
  exec_sql("DELETE FROM audit_events WHERE seq = 12");
  expect_failure(verify(), 12, "record 12 is missing (the journal goes from seq 11 to 13)");
}

TEST_F(VerifyTest, NamesSeveralDeletedRecordsByTheFirst) {
  exec_sql(
      "DELETE FROM audit_results WHERE seq BETWEEN 5 AND 7;"
      "DELETE FROM audit_events WHERE seq BETWEEN 5 AND 7;");
  expect_failure(verify(), 5, "records 5 to 7 are missing");
}

TEST_F(VerifyTest, NamesADeletedFirstRecord) {
  exec_sql("DELETE FROM audit_events WHERE seq = 1");
  expect_failure(verify(), 1, "record 1 is missing (the journal starts at seq 2)");
}

TEST_F(VerifyTest, NamesTheFirstRecordRenumberedToHideADeletion) {
  exec_sql("DELETE FROM audit_events WHERE seq = 12");
  for (int seq = 13; seq <= 26; ++seq) {
    exec_sql(fmt::format("UPDATE audit_events SET seq = {} WHERE seq = {}", seq - 1, seq));
    exec_sql(fmt::format("UPDATE audit_results SET seq = {} WHERE seq = {}", seq - 1, seq));
  }
  expect_failure(verify(), 12, "record 12 does not match its hash");
}

TEST_F(VerifyTest, NamesTheFirstOfTwoSwappedRecords) {
  // Statements 2 and 3 (seq 4 and 6) trade places; each keeps its seq, so the order of what
  // was run is rewritten.
  const std::string columns = record_columns_but_seq();
  exec_sql(fmt::format(
      "CREATE TEMP TABLE swapped AS SELECT * FROM audit_events WHERE seq IN (4, 6);"
      "UPDATE audit_events SET ({0}) = (SELECT {0} FROM swapped WHERE swapped.seq = 10 - "
      "audit_events.seq) WHERE seq IN (4, 6);",
      columns));
  ASSERT_EQ(query_column("SELECT command FROM audit_events WHERE seq = 4"),
            std::vector<std::string>{"SELECT 3 FROM t3"});
  expect_failure(verify(), 4, "record 4 does not match its hash");
}

TEST_F(VerifyTest, NamesTheFirstRecordOfACutOffTail) {
  exec_sql("DELETE FROM audit_results WHERE seq > 20; DELETE FROM audit_events WHERE seq > 20;");
  expect_failure(verify(), 21,
                 "the journal ends at seq 20, but the checkpoint at seq 26 pins seq 26: records "
                 "21 to 26 were removed");
}

TEST_F(VerifyTest, TailCutBackToACheckpointPassesLocallyButFailsAgainstExportedCheckpoints) {
  const std::vector<Checkpoint> exported = exported_checkpoints();
  ASSERT_EQ(exported.size(), 3u);
  // Root without the key: records and checkpoints after seq 20 go, and nothing local shows it.
  exec_sql(
      "DELETE FROM audit_results WHERE seq > 20; DELETE FROM audit_events WHERE seq > 20;"
      "DELETE FROM audit_checkpoints WHERE seq > 20;");
  const VerifyReport local = verify();
  EXPECT_TRUE(local.ok) << local.message;
  EXPECT_EQ(local.last_seq, 20);
  EXPECT_EQ(local.unanchored_records, 0);

  const VerifyReport against_copies = verify(exported);
  expect_failure(against_copies, 21,
                 "the journal ends at seq 20, but the external checkpoint at seq 26 pins seq 26");
  EXPECT_EQ(against_copies.external_checkpoints_checked, 3);
}

TEST_F(VerifyTest, NamesACheckpointWhoseHashWasChangedUnderItsSignature) {
  exec_sql(
      "UPDATE audit_checkpoints SET hash = (SELECT hash FROM audit_events WHERE seq = 9) "
      "WHERE seq = 10");
  expect_failure(verify(), 10, "the checkpoint at seq 10 has an invalid signature");
}

TEST_F(VerifyTest, NamesACheckpointMovedToAnotherSeqUnderItsSignature) {
  exec_sql(
      "UPDATE audit_checkpoints SET seq = 15, hash = (SELECT hash FROM audit_events WHERE "
      "seq = 15) WHERE seq = 10");
  expect_failure(verify(), 15, "the checkpoint at seq 15 has an invalid signature");
}

TEST_F(VerifyTest, NamesACheckpointSignedWithAnotherKey) {
  auto checkpoints = open_store()->checkpoints();
  ASSERT_TRUE(checkpoints);
  Checkpoint forged = (*checkpoints)[1];
  ASSERT_EQ(forged.seq, 20);
  ASSERT_TRUE(sign_checkpoint(forged, new_signing_key()));
  exec_sql("UPDATE audit_checkpoints SET key_id = ?, signature = ? WHERE seq = 20",
           {forged.key_id, forged.signature});
  expect_failure(verify(), 20, "the checkpoint at seq 20 has an invalid signature");
}

TEST_F(VerifyTest, NamesAForgedCheckpointBeyondTheJournal) {
  Checkpoint forged{40, std::string(64, 'a'), "2026-09-21T00:00:00.000000000Z", "gw-test", {}, {}};
  ASSERT_TRUE(sign_checkpoint(forged, new_signing_key()));
  exec_sql(
      "INSERT INTO audit_checkpoints (seq, hash, time, instance, key_id, signature) VALUES "
      "(40, ?, ?, ?, ?, ?)",
      {forged.hash, forged.time, forged.instance, forged.key_id, forged.signature});
  expect_failure(verify(), 40, "the checkpoint at seq 40 has an invalid signature");
}

TEST_F(VerifyTest, RewriteResignedWithTheKeyPassesLocallyButFailsAgainstExportedCheckpoints) {
  const std::vector<Checkpoint> exported = exported_checkpoints();
  // Root with the signing key: record 5 says something else, every hash after it is computed
  // again and every checkpoint signed again. The journal is consistent in itself.
  std::vector<Record> records;
  ASSERT_TRUE(open_store()->scan(1, [&](const store::JournalEntry& entry) {
    records.push_back(entry.record);
    return true;
  }));
  ASSERT_EQ(records.size(), 26u);
  records[4][Field::rows] = "0";
  for (std::size_t i = 4; i < records.size(); ++i) {
    records[i].prev_hash = records[i - 1].hash;
    records[i].hash = record_hash(records[i]);
    exec_sql(fmt::format("UPDATE audit_events SET \"rows\" = {}, prev_hash = ?, hash = ? WHERE "
                         "seq = {}",
                         records[i][Field::rows] ? *records[i][Field::rows] : "NULL", i + 1),
             {records[i].prev_hash, records[i].hash});
  }
  auto checkpoints = open_store()->checkpoints();
  ASSERT_TRUE(checkpoints);
  for (auto checkpoint : *checkpoints) {
    checkpoint.hash = records[static_cast<std::size_t>(checkpoint.seq) - 1].hash;
    ASSERT_TRUE(sign_checkpoint(checkpoint, key_));
    exec_sql(fmt::format("UPDATE audit_checkpoints SET hash = ?, signature = ? WHERE seq = {}",
                         checkpoint.seq),
             {checkpoint.hash, checkpoint.signature});
  }
  const VerifyReport local = verify();
  EXPECT_TRUE(local.ok) << local.message;

  expect_failure(verify(exported), 10,
                 "the external checkpoint at seq 10 pins hash " + exported[0].hash.substr(0, 16));
}

TEST_F(VerifyTest, ReportsAsJson) {
  exec_sql("DELETE FROM audit_events WHERE seq = 12");
  const std::string json = verify_report_to_json(verify());
  EXPECT_TRUE(Contains(json, "\"ok\":false"));
  EXPECT_TRUE(Contains(json, "\"first_bad_seq\":12"));
  EXPECT_TRUE(Contains(json, "\"message\":\"record 12 is missing"));
}

}  // namespace
}  // namespace portcullis::audit::testing
