// The audit journal: sessions hand it events; one writer thread chains them (seq, prev_hash,
// hash), appends them to segment files in groups — one write and one fdatasync for every
// event that arrived while the last group was syncing — and signs a checkpoint every
// `checkpoint_every` records, at start when the end is not pinned, and at close. Committed
// records go on to the searchable index (journal_index.h) off the commit path. When the
// segments cannot be written the journal reports itself unhealthy, keeps what it must not
// lose, and probes until they take writes again.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <filesystem>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <unordered_set>
#include <vector>

#include "audit/event.h"
#include "audit/journal_index.h"
#include "audit/segment_writer.h"
#include "identity/signing_key.h"
#include "store/journal_store.h"

namespace portcullis::audit {

struct JournalOptions {
  std::filesystem::path dir;  // the segment files (audit.journal_dir)
  std::uint64_t segment_size = 64ull << 20;
  std::string instance;  // names this gateway in every record and checkpoint
  std::uint64_t checkpoint_every = 1000;
  // Events nobody waits for are committed within this delay (audit.durability: batched).
  std::chrono::milliseconds batch_delay{100};
  // Most events in one transaction.
  std::size_t max_batch = 1024;
  // Queued events beyond which appenders are told to wait for their commit (back-pressure).
  std::size_t backlog_limit = 8192;
  // How often failed segments are tried again.
  std::chrono::milliseconds retry_interval{250};
  // Events kept in memory while the segments cannot be written; those beyond are counted and
  // the count recorded once they can.
  std::size_t outage_limit = 100000;
  // The journal counts as unhealthy (commands and new sessions refused) also while its index
  // cannot be written: set for a state store shared by several instances in strict mode,
  // where the other instances and the auditors see a record only once it is there.
  bool index_required = false;
};

struct JournalStats {
  std::uint64_t events = 0;    // records committed
  std::uint64_t commits = 0;   // groups committed (each one write and one fdatasync)
  std::uint64_t failures = 0;  // groups that failed
  std::int64_t last_seq = 0;
  std::int64_t indexed_seq = 0;  // the searchable index has the records up to here
  std::size_t queued = 0;        // events handed over and not yet committed
};

class Journal {
 public:
  // Runs on the writer thread once the event is committed (true) or dropped because the
  // store failed (false). Must not block.
  using Completion = std::function<void(bool committed)>;

  // Opens the segments in options.dir (see SegmentWriter::open for what it refuses), checks
  // `index` (the state store's audit tables; may be null) against them, and starts the
  // writer thread. A torn tail set aside at open is recorded as the first event (`recovery`),
  // and an end not pinned by a checkpoint is pinned before anything else is written. A
  // journal still kept in the index alone (before segment files) is moved into segments.
  static Result<std::unique_ptr<Journal>> start(std::unique_ptr<store::JournalStore> index,
                                                identity::SigningKey key, JournalOptions options);
  ~Journal();
  Journal(const Journal&) = delete;
  Journal& operator=(const Journal&) = delete;

  // Thread-safe. With `on_commit` the caller waits for the outcome, and an event the store
  // cannot take is dropped (its command must not run). Without, the event is kept and tried
  // again until the store takes it.
  void append(Event&& event, Completion on_commit = {});
  void append(const Event& event, Completion on_commit = {}) {
    append(Event(event), std::move(on_commit));
  }

  // False from a failed commit until the store takes writes again: commands must be refused.
  bool healthy() const {
    return healthy_.load(std::memory_order_acquire) &&
           (!options_.index_required || !index_ || index_->healthy());
  }
  // True when appenders should wait for their commit rather than run ahead of the writer.
  bool backlogged() const {
    return backlog_.load(std::memory_order_relaxed) >= options_.backlog_limit;
  }
  // Waits until the searchable index holds every record committed so far (tests, shutdown).
  bool wait_indexed(std::chrono::milliseconds timeout);
  // Why the segments failed last (no secrets: the file's name and the system's message).
  std::string last_error() const;
  JournalStats stats() const;

  // Commits what is queued, signs a last checkpoint, stops the writer. Idempotent.
  void close();

 private:
  struct Pending {
    // Built in place in the queue: an Event is ~40 members, each move of it counts.
    Pending(Event&& e, Completion&& c, std::chrono::steady_clock::time_point q)
        : event(std::move(e)), on_commit(std::move(c)), queued(q) {}
    Event event;
    Completion on_commit;
    std::chrono::steady_clock::time_point queued;
  };

  Journal(identity::SigningKey key, JournalOptions options);
  void run();
  // Writes `batch` as one group; checkpoints as `checkpoint_every` says, and `pin` signs the
  // last record of the group whatever its seq.
  Result<void> commit(std::vector<Pending>& batch, bool pin = false);
  // A checkpoint of the last record, alone, when it is not pinned yet.
  Result<void> pin_end();
  // Copies a journal kept in the state store alone (before segment files) into segments.
  Result<void> move_from_index(store::JournalStore& index);
  void set_unhealthy(const Error& error);
  // A waited event was dropped: its result, if one comes, is dropped too.
  void forget(const std::string& id);
  // After an outage: a `recovery` record of the events not kept.
  void record_loss();

  std::unique_ptr<SegmentWriter> writer_;
  std::unique_ptr<JournalIndex> index_;
  identity::SigningKey key_;
  JournalOptions options_;
  RecordHasher hasher_;  // the writer thread's
  // The writer thread's: the end of the chain, and one group's frames and entries.
  std::int64_t last_seq_ = 0;
  std::string last_hash_;
  std::string frames_;
  std::unordered_set<std::string> forgotten_;  // ids of dropped statement records
  static constexpr std::size_t kMaxForgotten = 1 << 16;

  mutable std::mutex mutex_;
  std::condition_variable wake_;
  // Events handed over and not yet taken by the writer, oldest first, in segments of at most
  // max_batch: the writer takes the front segment whole as its next batch. Not one deque of
  // events: a Pending is larger than a deque block, so that allocated (and the writer freed)
  // a node per event, and the writer moved every event into its batch. A committed batch's
  // vector comes back as `spare_` for the next segment, so appending allocates nothing.
  std::deque<std::vector<Pending>> queue_;
  std::vector<Pending> spare_;
  std::size_t queued_ = 0;           // events in queue_
  std::size_t waited_in_queue_ = 0;  // queued events with a Completion
  bool stopping_ = false;
  std::string last_error_;
  JournalStats stats_;
  std::int64_t last_checkpoint_seq_ = 0;
  std::uint64_t lost_while_unavailable_ = 0;
  TimePoint lost_since_;

  std::atomic<bool> healthy_{true};
  std::atomic<std::size_t> backlog_{0};
  std::thread writer_thread_;
};

}  // namespace portcullis::audit
