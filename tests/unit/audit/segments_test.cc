// The journal's segment files: the frame codec, rotation, and what the journal and verify do
// with a torn tail, a journal cut back, damage, a lost index, a crash image, and a journal
// still kept in the state store alone.
#include <fcntl.h>
#include <fmt/format.h>
#include <gtest/gtest.h>
#include <sys/resource.h>
#include <unistd.h>

#include <csignal>
#include <fstream>
#include <future>
#include <thread>

#include "audit/segment_files.h"
#include "audit/segment_format.h"
#include "journal_fixture.h"

namespace portcullis::audit::testing {
namespace {

std::string read_file(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

void write_file_at(const std::filesystem::path& path, std::uint64_t offset,
                   std::string_view bytes) {
  const int fd = ::open(path.c_str(), O_WRONLY);
  ASSERT_GE(fd, 0) << path;
  ASSERT_EQ(::pwrite(fd, bytes.data(), bytes.size(), static_cast<off_t>(offset)),
            static_cast<ssize_t>(bytes.size()));
  ::close(fd);
}

store::JournalEntry sample_entry() {
  store::JournalEntry entry;
  entry.record[Field::seq] = "7";
  entry.record[Field::event] = "statement";
  entry.record[Field::command] = std::string("SELECT 1\n\0x", 11);
  entry.record[Field::error] = "";  // present and empty, not absent
  entry.record.prev_hash = std::string(64, 'a');
  entry.record.hash = std::string(64, 'b');
  entry.results = R"({"columns":["n"],"rows":[["1"]],"truncated":false})";
  return entry;
}

TEST(SegmentFormat, RecordFramesRoundTripWithAbsentAndEmptyFieldsApart) {
  std::string frames;
  segment::append_record_frame(sample_entry(), frames);
  std::size_t offset = 0;
  segment::Frame frame;
  ASSERT_EQ(segment::next_frame(frames, offset, frame), segment::FrameRead::frame);
  EXPECT_EQ(offset, frames.size());
  EXPECT_EQ(frame.type, segment::FrameType::record);
  auto decoded = segment::decode_record(frame.payload);
  ASSERT_TRUE(decoded) << decoded.error().message;
  EXPECT_EQ(decoded->record.fields, sample_entry().record.fields);
  EXPECT_EQ(decoded->record[Field::error], std::optional<std::string>(""));
  EXPECT_FALSE(decoded->record[Field::rule].has_value());
  EXPECT_EQ(decoded->results, sample_entry().results);
  EXPECT_EQ(segment::next_frame(frames, offset, frame), segment::FrameRead::end);
}

TEST(SegmentFormat, KnowsTheSizeOfARecordFrameBeforeWritingIt) {
  std::string frames;
  segment::append_record_frame(sample_entry(), frames);
  EXPECT_EQ(segment::record_frame_size(sample_entry()), frames.size());
}

TEST(SegmentFormat, CheckpointFramesRoundTrip) {
  store::JournalCheckpoint checkpoint{
      42, std::string(64, 'c'), "2026-12-06T07:00:00Z", "gw1", "key", "sig"};
  std::string frames;
  segment::append_checkpoint_frame(checkpoint, frames);
  std::size_t offset = 0;
  segment::Frame frame;
  ASSERT_EQ(segment::next_frame(frames, offset, frame), segment::FrameRead::frame);
  auto decoded = segment::decode_checkpoint(frame.payload);
  ASSERT_TRUE(decoded) << decoded.error().message;
  EXPECT_EQ(decoded->seq, 42);
  EXPECT_EQ(decoded->signature, "sig");
}

TEST(SegmentFormat, TellsTheEndFromACutFrame) {
  std::string frames;
  segment::append_record_frame(sample_entry(), frames);
  const std::string whole = frames + std::string(64, '\0');
  std::size_t offset = 0;
  segment::Frame frame;
  ASSERT_EQ(segment::next_frame(whole, offset, frame), segment::FrameRead::frame);
  EXPECT_EQ(segment::next_frame(whole, offset, frame), segment::FrameRead::end);
  for (std::size_t cut : {std::size_t{2}, std::size_t{5}, frames.size() - 1}) {
    offset = 0;
    EXPECT_EQ(segment::next_frame(std::string_view(frames).substr(0, cut), offset, frame),
              segment::FrameRead::torn)
        << cut;
  }
  std::string bad_type = frames;
  bad_type[4] = 9;
  offset = 0;
  EXPECT_EQ(segment::next_frame(bad_type, offset, frame), segment::FrameRead::torn);
  // A frame of the right length whose payload is cut inside a field is not a record.
  EXPECT_FALSE(segment::decode_record(std::string_view(frames).substr(5, 40)));
}

// u32 little-endian, as a frame holds lengths.
std::string le32(std::uint32_t value) {
  std::string out(4, '\0');
  for (int i = 0; i < 4; ++i) out[i] = static_cast<char>((value >> (8 * i)) & 0xff);
  return out;
}

TEST(SegmentFormat, ReadsARecordFrameWrittenBeforeTheCredentialField) {
  // Laid out by hand as the writer did before fields were appended: the 29 original fields,
  // the hashes, the kept rows, nothing after. The record is that of the encoding test's known
  // hash: it still decodes to the same record and hashes to the same value.
  Record record;
  record[Field::seq] = "1";
  record[Field::id] = "s1.0.1";
  record[Field::time] = "2026-11-25T21:04:05.123456789Z";
  record[Field::instance] = "gw1";
  record[Field::event] = "connect";
  record[Field::subject] = "alice";
  record[Field::groups] = "[\"engineering\"]";
  record[Field::verdict] = "allow";
  record.prev_hash = kGenesisHash;
  record.hash = "b99b3750620e79f4b77b4f1df56117596ba828c0cd3f996eb9971ae34d13e056";
  std::string payload;
  for (std::size_t i = 0; i < 29; ++i) {
    const auto& value = record.fields[i];
    payload += value ? le32(static_cast<std::uint32_t>(value->size())) + *value : le32(0xffffffffu);
  }
  payload += record.prev_hash + record.hash + le32(0xffffffffu);
  const std::string frame = le32(static_cast<std::uint32_t>(payload.size() + 1)) + '\x01' + payload;

  store::JournalEntry entry;
  entry.record = record;
  std::string written;
  segment::append_record_frame(entry, written);
  EXPECT_EQ(written, frame);  // a record without a credential is written as before

  auto decoded = segment::decode_record(std::string_view(frame).substr(5));
  ASSERT_TRUE(decoded) << decoded.error().message;
  EXPECT_EQ(decoded->record.fields, record.fields);
  EXPECT_FALSE(decoded->record[Field::credential].has_value());
  EXPECT_EQ(record_hash(decoded->record), record.hash);
}

TEST(SegmentFormat, KeepsTheCredentialAfterTheKeptRows) {
  store::JournalEntry entry = sample_entry();
  entry.record[Field::credential] = "api_key ci-deploy";
  std::string frames;
  segment::append_record_frame(entry, frames);
  EXPECT_EQ(segment::record_frame_size(entry), frames.size());
  std::size_t offset = 0;
  segment::Frame frame;
  ASSERT_EQ(segment::next_frame(frames, offset, frame), segment::FrameRead::frame);
  auto decoded = segment::decode_record(frame.payload);
  ASSERT_TRUE(decoded) << decoded.error().message;
  EXPECT_EQ(decoded->record.fields, entry.record.fields);
  EXPECT_EQ(decoded->results, entry.results);
  // Present and empty stays apart from absent.
  entry.record[Field::credential] = "";
  frames.clear();
  segment::append_record_frame(entry, frames);
  offset = 0;
  ASSERT_EQ(segment::next_frame(frames, offset, frame), segment::FrameRead::frame);
  decoded = segment::decode_record(frame.payload);
  ASSERT_TRUE(decoded);
  EXPECT_EQ(decoded->record[Field::credential], std::optional<std::string>(""));
  // Bytes after the last field known are not a record, nor is a frame ending in an absent
  // field (the writer stops at the last one present).
  std::string longer(frame.payload);
  longer += le32(0);
  EXPECT_FALSE(segment::decode_record(longer));
  std::string absent_last(frame.payload);
  absent_last.resize(absent_last.size() - 4);
  absent_last += le32(0xffffffffu);
  EXPECT_FALSE(segment::decode_record(absent_last));
  absent_last.resize(absent_last.size() - 4);
  EXPECT_TRUE(segment::decode_record(absent_last));  // no credential: as before the field
}

TEST(SegmentFormat, HeadFileRoundTripsAndRejectsOtherText) {
  const std::string text = encode_head({123, std::string(64, 'd')});
  auto head = decode_head(text);
  ASSERT_TRUE(head);
  EXPECT_EQ(head->seq, 123);
  EXPECT_EQ(head->hash, std::string(64, 'd'));
  EXPECT_FALSE(decode_head("portcullis-journal-head-v1 seq=12"));
  EXPECT_FALSE(decode_head("something else"));
}

class SegmentsTest : public JournalFixture {
 protected:
  // Sessions of 26 records each, one group at a time: 20 of them span several 64 KiB
  // segments.
  void write_sessions(int sessions = 20) {
    auto journal = start_journal();
    for (int s = 0; s < sessions; ++s) {
      auto events = session_events({.session = fmt::format("s{}", s)});
      for (std::size_t i = 0; i + 1 < events.size(); ++i) journal->append(events[i]);
      commit_waiting(*journal, events.back());
    }
    journal->close();
    ASSERT_TRUE(journal->healthy()) << journal->last_error();
  }

  // Appends `event` and returns once it is committed.
  static void commit_waiting(Journal& journal, const Event& event) {
    std::promise<bool> committed;
    journal.append(event, [&](bool ok) { committed.set_value(ok); });
    ASSERT_TRUE(committed.get_future().get());
  }

  VerifyReport verify_files(std::int64_t index_seq = 0) {
    auto report = verify_segments(journal_dir_, key_.pkey(), {}, index_seq);
    if (!report) throw std::runtime_error(report.error().message);
    return *report;
  }

  std::vector<SegmentFile> segments() {
    auto list = list_segments(journal_dir_);
    EXPECT_TRUE(list) << list.error().message;
    return *list;
  }

  // Where the written part of the last segment ends.
  std::uint64_t end_offset() {
    auto end = read_segments(journal_dir_, 1, {});
    EXPECT_TRUE(end) << end.error().message;
    return end->end_offset;
  }

  // Zeroes every frame of the last segment but its first record, as someone hiding the
  // journal's last records would (the file then reads as a shorter journal, not a torn one).
  void cut_back_to_first_record() {
    const auto last = segments().back().path;
    const auto data = read_file(last);
    std::size_t offset = segment::kHeaderSize;
    segment::Frame frame;
    ASSERT_EQ(segment::next_frame(data, offset, frame), segment::FrameRead::frame);
    write_file_at(last, offset, std::string(data.size() - offset, '\0'));
  }

  Result<std::unique_ptr<Journal>> try_start() {
    JournalOptions options;
    options.dir = journal_dir_;
    options.segment_size = kSegmentSize;
    return Journal::start(open_store(), key_, options);
  }

  std::int64_t index_seq() {
    auto tail = open_store()->tail();
    EXPECT_TRUE(tail);
    return tail->seq;
  }
};

TEST_F(SegmentsTest, SpreadsRecordsOverSegmentsThatVerifyAndIndexWhole) {
  write_sessions();
  EXPECT_GE(segments().size(), 3u);
  const VerifyReport report = verify_files(index_seq());
  EXPECT_TRUE(report.ok) << report.message;
  EXPECT_EQ(report.records_checked, 20 * 26);
  EXPECT_EQ(report.unanchored_records, 0);
  EXPECT_EQ(index_seq(), 20 * 26);
  EXPECT_TRUE(verify().ok);  // the index holds the same chain
  // Every segment is preallocated: its size does not change as records go in.
  for (const auto& segment : segments())
    EXPECT_EQ(std::filesystem::file_size(segment.path), kSegmentSize) << segment.path;
}

TEST_F(SegmentsTest, JournalsCredentialsBesideRecordsWithoutOne) {
  // One session logged in with a registered key, one (as before the field existed) naming
  // none: both verify from the segments and from the index, which keeps the field.
  auto with_key = session_events({.session = "k1"});
  for (auto& event : with_key) event.credential = "ssh_key k-1a2b SHA256:abc";
  auto without = session_events({.session = "t1"});
  std::vector<Event> events = with_key;
  events.insert(events.end(), without.begin(), without.end());
  write_events(events);
  const VerifyReport report = verify_files(index_seq());
  EXPECT_TRUE(report.ok) << report.message;
  EXPECT_EQ(report.records_checked, 52);
  EXPECT_TRUE(verify().ok);
  EXPECT_EQ(query_column("SELECT COUNT(*) FROM audit_events WHERE credential = "
                         "'ssh_key k-1a2b SHA256:abc' AND session = 'k1'"),
            std::vector<std::string>{"26"});
  EXPECT_EQ(query_column("SELECT COUNT(*) FROM audit_events WHERE credential IS NULL AND "
                         "session = 't1'"),
            std::vector<std::string>{"26"});
}

TEST_F(SegmentsTest, ATornTailFailsVerifyThenIsKeptAsideAndRecordedAtRestart) {
  write_sessions(2);
  const auto last = segments().back().path;
  const std::uint64_t end = end_offset();
  // A group write cut short: a frame's length and the first bytes of its payload.
  std::string partial;
  segment::append_record_frame(sample_entry(), partial);
  write_file_at(last, end, partial.substr(0, 37));
  VerifyReport report = verify_files();
  EXPECT_FALSE(report.ok);
  EXPECT_EQ(report.first_bad_seq, 53);
  EXPECT_TRUE(Contains(report.message, "37 bytes"));
  EXPECT_TRUE(Contains(report.message, "not whole records"));

  auto journal = start_journal();
  journal->close();
  report = verify_files(index_seq());
  EXPECT_TRUE(report.ok) << report.message;
  ASSERT_EQ(report.recoveries.size(), 1u);
  EXPECT_TRUE(Contains(report.recoveries[0], "seq 53: the journal ended in 37 bytes"));
  EXPECT_EQ(report.last_seq, 53);
  EXPECT_EQ(report.unanchored_records, 0);  // the recovery record was pinned at once
  const auto kept = std::filesystem::path(last.string() + fmt::format(".torn-{}", end));
  ASSERT_TRUE(std::filesystem::exists(kept));
  EXPECT_EQ(read_file(kept), partial.substr(0, 37));
}

TEST_F(SegmentsTest, ANewSegmentWhoseFirstWriteWasCutShortIsATornTail) {
  write_sessions(3);
  const auto number = segments().back().number + 1;
  const auto next = journal_dir_ / segment_file_name(number);
  {
    std::ofstream out(next, std::ios::binary);
    out << std::string(kSegmentSize, '\0');
  }
  // Its first page (the header and the first frames) never reached the disk; the next did.
  write_file_at(next, 4096, std::string(100, 'x'));
  VerifyReport report = verify_files();
  EXPECT_FALSE(report.ok);
  EXPECT_EQ(report.first_bad_seq, 3 * 26 + 1);
  EXPECT_TRUE(Contains(report.message, "4196 bytes at offset 0")) << report.message;

  start_journal()->close();
  report = verify_files(index_seq());
  EXPECT_TRUE(report.ok) << report.message;
  ASSERT_EQ(report.recoveries.size(), 1u);
  EXPECT_EQ(segments().back().number, number);  // the segment is written into, from its start
}

TEST_F(SegmentsTest, RefusesToWriteAfterAJournalCutBackBelowItsHead) {
  write_sessions(2);
  cut_back_to_first_record();
  const VerifyReport report = verify_files();
  EXPECT_FALSE(report.ok);
  EXPECT_TRUE(Contains(report.message, "its head file says it reached seq 52"));

  auto journal = try_start();
  ASSERT_FALSE(journal);
  EXPECT_TRUE(Contains(journal.error().message, "are missing"));
  EXPECT_TRUE(Contains(journal.error().message, "to 52"));
}

TEST_F(SegmentsTest, RefusesToWriteWhenTheIndexIsAheadOfTheSegments) {
  write_sessions(2);
  cut_back_to_first_record();
  std::filesystem::remove(journal_dir_ / kHeadFileName);  // the head removed as well
  EXPECT_FALSE(verify_files(index_seq()).ok);
  auto journal = try_start();
  ASSERT_FALSE(journal);
  EXPECT_TRUE(
      Contains(journal.error().message, "the index in the state store holds records up to seq 52"));
}

TEST_F(SegmentsTest, NamesARecordChangedInItsSegment) {
  write_sessions(1);
  const auto first = segments().front().path;
  auto data = read_file(first);
  const auto at = data.find("SELECT 3 FROM t3");
  ASSERT_NE(at, std::string::npos);
  write_file_at(first, at, "SELECT 4");
  const VerifyReport report = verify_files();
  EXPECT_FALSE(report.ok);
  EXPECT_EQ(report.first_bad_seq, 6);
  EXPECT_TRUE(Contains(report.message, "does not match its hash"));
}

TEST_F(SegmentsTest, NamesDamageInAnEarlierSegment) {
  write_sessions();
  const auto first = segments().front().path;
  write_file_at(first, segment::kHeaderSize + 2, "\xff\xff");  // a frame length made huge
  const VerifyReport report = verify_files();
  EXPECT_FALSE(report.ok);
  EXPECT_EQ(report.first_bad_seq, 1);
  EXPECT_TRUE(Contains(report.message, "is damaged at offset 32"));
}

TEST_F(SegmentsTest, NamesTheRecordsOfADeletedSegment) {
  write_sessions();
  ASSERT_GE(segments().size(), 3u);
  std::filesystem::remove(segments()[1].path);
  const VerifyReport report = verify_files();
  EXPECT_FALSE(report.ok);
  EXPECT_TRUE(Contains(report.message, "are missing")) << report.message;
}

TEST_F(SegmentsTest, ACrashImagePinsItsEndAtRestart) {
  // The folder copied while the journal runs, between two groups: what a kill -9 leaves.
  auto journal = start_journal(/*checkpoint_every=*/1000);
  const auto events = session_events({});
  for (std::size_t i = 0; i + 1 < events.size(); ++i) journal->append(events[i]);
  commit_waiting(*journal, events.back());
  const auto image = dir_ / "image";
  std::filesystem::copy(journal_dir_, image);
  journal->close();
  std::filesystem::remove_all(journal_dir_);
  std::filesystem::rename(image, journal_dir_);
  EXPECT_EQ(verify_files().unanchored_records, 26);

  start_journal(1000)->close();
  const VerifyReport report = verify_files(index_seq());
  EXPECT_TRUE(report.ok) << report.message;
  EXPECT_EQ(report.last_seq, 26);
  EXPECT_EQ(report.unanchored_records, 0);
}

TEST_F(SegmentsTest, RebuildsALostIndexFromTheSegments) {
  write_sessions(3);
  exec_sql("DELETE FROM audit_results; DELETE FROM audit_events; DELETE FROM audit_checkpoints;");
  auto journal = start_journal();
  ASSERT_TRUE(journal->wait_indexed(std::chrono::seconds(10)));
  journal->close();
  EXPECT_EQ(index_seq(), 3 * 26);
  const VerifyReport report = verify();  // the rebuilt index verifies as the segments do
  EXPECT_TRUE(report.ok) << report.message;
  EXPECT_EQ(report.checkpoints_checked, verify_files().checkpoints_checked);
}

TEST_F(SegmentsTest, MovesAJournalKeptInTheStateStoreAloneIntoSegments) {
  write_sessions(3);
  const VerifyReport before = verify();
  std::filesystem::remove_all(journal_dir_);  // as a journal written before segment files
  start_journal()->close();
  const VerifyReport report = verify_files(index_seq());
  EXPECT_TRUE(report.ok) << report.message;
  EXPECT_EQ(report.records_checked, before.records_checked);
  EXPECT_EQ(report.checkpoints_checked, before.checkpoints_checked);
}

TEST_F(SegmentsTest, KeepsEventsThroughAFullDiskAndRefusesWaitersMeanwhile) {
  auto journal = start_journal();
  auto events = session_events({});
  journal->append(events[0]);
  ASSERT_TRUE(journal->wait_indexed(std::chrono::seconds(10)));
  // Writes past this offset fail as on a full disk (EFBIG rather than ENOSPC).
  std::signal(SIGXFSZ, SIG_IGN);
  rlimit saved{};
  getrlimit(RLIMIT_FSIZE, &saved);
  rlimit full = saved;
  full.rlim_cur = 1;
  ASSERT_EQ(setrlimit(RLIMIT_FSIZE, &full), 0);
  std::promise<bool> waited;
  journal->append(events[1], [&](bool committed) { waited.set_value(committed); });
  EXPECT_FALSE(waited.get_future().get());  // its command must not run
  EXPECT_FALSE(journal->healthy());
  journal->append(events[2]);  // the refused statement's outcome: dropped with it
  journal->append(events[3]);  // happened already: kept until the disk takes it
  ASSERT_EQ(setrlimit(RLIMIT_FSIZE, &saved), 0);
  for (int i = 0; i < 200 && !journal->healthy(); ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  EXPECT_TRUE(journal->healthy()) << journal->last_error();
  journal->close();
  const VerifyReport report = verify_files(index_seq());
  EXPECT_TRUE(report.ok) << report.message;
  EXPECT_EQ(report.records_checked, 2);  // the connect and the kept event, not the refused one
  store::JournalFilter statements;
  statements.event = "statement";
  auto statement = open_store()->search(statements);
  ASSERT_TRUE(statement);
  ASSERT_EQ(statement->size(), 1u);
  EXPECT_EQ((*statement)[0][Field::id], events[3].id);
  store::JournalFilter results;
  results.event = "result";
  EXPECT_TRUE(open_store()->search(results)->empty());
}

}  // namespace
}  // namespace portcullis::audit::testing
