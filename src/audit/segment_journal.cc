// Reading the segments through the JournalStore interface.
#include "audit/segment_journal.h"

#include <charconv>
#include <limits>

namespace portcullis::audit {

Result<void> SegmentJournal::append(
    const std::function<Result<store::JournalBatch>(const store::JournalTail&)>&) {
  return make_error("the segment files are written by the journal alone");
}

Result<void> SegmentJournal::probe() {
  return make_error("the segment files are written by the journal alone");
}

Result<store::JournalTail> SegmentJournal::tail() {
  auto read = read_segments(dir_, std::numeric_limits<int64_t>::max(), {});
  if (!read) return read.error();
  last_read_ = *read;
  return store::JournalTail{read->last_seq, read->last_hash};
}

Result<void> SegmentJournal::scan(int64_t from_seq,
                                  const std::function<bool(const store::JournalEntry&)>& visit) {
  bool stopped = false;
  SegmentVisitor visitor;
  visitor.on_record = [&](const store::JournalEntry& entry) {
    stopped = !visit(entry);
    return !stopped;
  };
  auto read = read_segments(dir_, from_seq, visitor);
  if (!read) return read.error();
  if (!stopped) last_read_ = *read;
  return {};
}

Result<std::vector<store::JournalCheckpoint>> SegmentJournal::checkpoints() {
  std::vector<store::JournalCheckpoint> out;
  SegmentVisitor visitor;
  visitor.on_checkpoint = [&](const store::JournalCheckpoint& checkpoint) {
    out.push_back(checkpoint);
    return true;
  };
  // Every segment, not only those a seq would be found in.
  auto read = read_segments(dir_, 1, visitor);
  if (!read) return read.error();
  last_read_ = *read;
  return out;
}

Result<std::vector<std::string>> SegmentJournal::instances() {
  return make_error("the segment files hold one instance's chain: list instances in the index");
}

Result<std::vector<store::JournalRecord>> SegmentJournal::search(const store::JournalFilter&) {
  return make_error("the segment files are not searchable: search the index");
}

Result<int64_t> SegmentJournal::last_cursor() {
  return make_error("the segment files are not searchable: search the index");
}

Result<std::vector<store::JournalRecord>> SegmentJournal::results_for(
    const std::vector<std::string>&) {
  return make_error("the segment files are not searchable: search the index");
}

Result<std::optional<std::string>> SegmentJournal::result_rows(int64_t seq) {
  std::optional<std::string> rows;
  auto scanned = scan(seq, [&](const store::JournalEntry& entry) {
    std::int64_t at = 0;
    const auto& text = *entry.record[store::Field::seq];
    std::from_chars(text.data(), text.data() + text.size(), at);
    if (at == seq) rows = entry.results;
    return false;
  });
  if (!scanned) return scanned.error();
  return rows;
}

}  // namespace portcullis::audit
