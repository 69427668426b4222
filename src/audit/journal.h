// The audit journal: sessions hand it events; one writer thread chains them (seq, prev_hash,
// hash), commits them in groups — one fsync for every event that arrived while the last
// commit was syncing — and signs a checkpoint every `checkpoint_every` records and at close.
// When the store fails the journal reports itself unhealthy, keeps what it must not lose, and
// probes the store until it takes writes again.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "audit/event.h"
#include "identity/signing_key.h"
#include "store/journal_store.h"

namespace portcullis::audit {

struct JournalOptions {
  std::string instance;  // names this gateway in every record and checkpoint
  std::uint64_t checkpoint_every = 1000;
  // Events nobody waits for are committed within this delay (audit.durability: batched).
  std::chrono::milliseconds batch_delay{100};
  // Most events in one transaction.
  std::size_t max_batch = 1024;
  // Queued events beyond which appenders are told to wait for their commit (back-pressure).
  std::size_t backlog_limit = 8192;
  // How often a failed store is tried again.
  std::chrono::milliseconds retry_interval{250};
};

struct JournalStats {
  std::uint64_t events = 0;    // records committed
  std::uint64_t commits = 0;   // transactions committed (each one fsync of the WAL)
  std::uint64_t failures = 0;  // transactions that failed
  std::int64_t last_seq = 0;
  std::size_t queued = 0;  // events handed over and not yet committed
};

class Journal {
 public:
  // Runs on the writer thread once the event is committed (true) or dropped because the
  // store failed (false). Must not block.
  using Completion = std::function<void(bool committed)>;

  // Reads the journal's tail and starts the writer thread.
  static Result<std::unique_ptr<Journal>> start(std::unique_ptr<store::JournalStore> store,
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
  bool healthy() const { return healthy_.load(std::memory_order_acquire); }
  // True when appenders should wait for their commit rather than run ahead of the writer.
  bool backlogged() const {
    return backlog_.load(std::memory_order_relaxed) >= options_.backlog_limit;
  }
  // Why the store failed last (no secrets: SQLite's message and the file's name).
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

  Journal(std::unique_ptr<store::JournalStore> store, identity::SigningKey key,
          JournalOptions options);
  void run();
  // Writes `batch` in one transaction; checkpoints as `checkpoint_every` says.
  Result<void> commit(std::vector<Pending>& batch);
  Result<void> final_checkpoint();
  void set_unhealthy(const Error& error);

  std::unique_ptr<store::JournalStore> store_;
  identity::SigningKey key_;
  JournalOptions options_;
  RecordHasher hasher_;  // the writer thread's

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

  std::atomic<bool> healthy_{true};
  std::atomic<std::size_t> backlog_{0};
  std::thread writer_;
};

}  // namespace portcullis::audit
