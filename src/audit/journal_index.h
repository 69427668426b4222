// The searchable index of the journal: the state store's audit tables (audit search, tail,
// export, the API, the JSONL exporter read them), fed from the committed journal on a thread
// of its own, off the commit path. The segments are the journal of record; the index is
// rebuilt from them when it is lost and catches up from them when it falls behind (after a
// crash, a store outage, or a backlog too large to keep in memory).
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "common/result.h"
#include "store/journal_store.h"

namespace portcullis::audit {

class JournalIndex {
 public:
  struct Options {
    std::filesystem::path dir;  // the segments
    // Most records handed over and not yet indexed; beyond, they are dropped from memory and
    // read back from the segments once the store takes writes.
    std::size_t backlog_limit = 1 << 16;
    std::chrono::milliseconds delay{50};  // lets records gather into larger transactions
    std::chrono::milliseconds retry_interval{1000};
    // When set, the store is probed this often while there is nothing to index, so that
    // healthy() also follows a store that went away between records (a shared store the
    // journal requires, JournalOptions::index_required).
    std::chrono::milliseconds probe_interval{0};
  };

  // Starts indexing from the store's tail: the records up to `journal_seq` the store lacks are
  // read from the segments first.
  JournalIndex(std::unique_ptr<store::JournalStore> store, Options options,
               std::int64_t journal_seq);
  ~JournalIndex();
  JournalIndex(const JournalIndex&) = delete;
  JournalIndex& operator=(const JournalIndex&) = delete;

  // Records committed to the segments, in seq order, and the checkpoints written with them.
  void add(std::vector<store::JournalEntry>&& entries,
           std::vector<store::JournalCheckpoint>&& checkpoints);
  // False from a failed write to the store (or probe) until one succeeds again.
  bool healthy() const { return healthy_.load(std::memory_order_acquire); }
  // The highest seq indexed.
  std::int64_t indexed_seq() const;
  // Waits until `seq` is indexed, or `timeout` passes.
  bool wait_indexed(std::int64_t seq, std::chrono::milliseconds timeout);
  // Indexes what was handed over (while the store takes writes), then stops. Idempotent.
  void close();

 private:
  void run();
  // Appends `batch` to the store, first catching up from the segments when the store's tail
  // is short of the batch's first record.
  Result<void> apply(store::JournalBatch& batch, std::int64_t first_seq);
  Result<void> catch_up(std::int64_t up_to_seq);
  Result<void> append(store::JournalBatch& batch);

  std::unique_ptr<store::JournalStore> store_;
  Options options_;

  mutable std::mutex mutex_;
  std::condition_variable wake_;
  std::condition_variable indexed_;
  std::vector<store::JournalEntry> queued_entries_;
  std::vector<store::JournalCheckpoint> queued_checkpoints_;
  std::int64_t catch_up_to_ = 0;  // records up to here are read from the segments
  std::int64_t indexed_seq_ = 0;
  std::int64_t last_checkpoint_seq_ = 0;  // the store's, the writer thread's
  bool stopping_ = false;
  std::atomic<bool> healthy_{true};
  std::thread thread_;
};

}  // namespace portcullis::audit
