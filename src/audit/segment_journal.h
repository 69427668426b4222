// The segment files read as a JournalStore, read-only: what verify checks and what the
// journal's index is rebuilt from. Searching is the index's business (the state store).
#pragma once

#include <filesystem>

#include "audit/segment_files.h"
#include "store/journal_store.h"

namespace portcullis::audit {

class SegmentJournal final : public store::JournalStore {
 public:
  explicit SegmentJournal(std::filesystem::path dir) : dir_(std::move(dir)) {}

  Result<void> append(
      const std::function<Result<store::JournalBatch>(const store::JournalTail&)>&) override;
  Result<void> probe() override;
  Result<store::JournalTail> tail() override;
  Result<void> scan(int64_t from_seq,
                    const std::function<bool(const store::JournalEntry&)>& visit) override;
  Result<std::vector<store::JournalCheckpoint>> checkpoints() override;
  Result<std::vector<std::string>> instances() override;
  Result<std::vector<store::JournalRecord>> search(const store::JournalFilter& filter) override;
  Result<int64_t> last_cursor() override;
  Result<std::vector<store::JournalRecord>> results_for(
      const std::vector<std::string>& ids) override;
  Result<std::optional<std::string>> result_rows(int64_t seq) override;

  // What the last whole read (tail, or a scan to the end) found past the records.
  const SegmentReadEnd& last_read() const { return last_read_; }
  const std::filesystem::path& dir() const { return dir_; }

 private:
  std::filesystem::path dir_;
  SegmentReadEnd last_read_;
};

}  // namespace portcullis::audit
