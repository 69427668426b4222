// The journal's writer thread: group commit, hash chain, checkpoints, failure and recovery.
#include "audit/journal.h"

#include <spdlog/spdlog.h>

#include <utility>

#include "audit/checkpoint.h"

namespace portcullis::audit {

Result<std::unique_ptr<Journal>> Journal::start(std::unique_ptr<store::JournalStore> store,
                                                identity::SigningKey key, JournalOptions options) {
  auto checkpoints = store->checkpoints();
  if (!checkpoints) return checkpoints.error();
  std::unique_ptr<Journal> journal(
      new Journal(std::move(store), std::move(key), std::move(options)));
  if (!checkpoints->empty()) journal->last_checkpoint_seq_ = checkpoints->back().seq;
  auto tail = journal->store_->tail();
  if (!tail) return tail.error();
  journal->stats_.last_seq = tail->seq;
  journal->writer_ = std::thread([j = journal.get()] { j->run(); });
  return journal;
}

Journal::Journal(std::unique_ptr<store::JournalStore> store, identity::SigningKey key,
                 JournalOptions options)
    : store_(std::move(store)), key_(std::move(key)), options_(std::move(options)) {}

Journal::~Journal() {
  close();
}

void Journal::append(Event&& event, Completion on_commit) {
  bool wake = false;
  {
    std::lock_guard lock(mutex_);
    const bool waited = static_cast<bool>(on_commit);
    if (queue_.empty() || queue_.back().size() >= options_.max_batch) {
      queue_.push_back(std::move(spare_));
      spare_ = {};
      queue_.back().reserve(options_.max_batch);  // no-op for a spare: it has the capacity
    }
    queue_.back().emplace_back(std::move(event), std::move(on_commit),
                               std::chrono::steady_clock::now());
    const std::size_t queued = ++queued_;
    backlog_.store(queued, std::memory_order_relaxed);
    if (waited) ++waited_in_queue_;
    // Someone waits, or a batch is full: the writer goes now. Otherwise it wakes by itself
    // when the oldest event has waited batch_delay.
    wake = waited || queued == 1 || queued >= options_.max_batch;
  }
  if (wake) wake_.notify_one();
}

std::string Journal::last_error() const {
  std::lock_guard lock(mutex_);
  return last_error_;
}

JournalStats Journal::stats() const {
  std::lock_guard lock(mutex_);
  JournalStats stats = stats_;
  stats.queued = queued_;
  return stats;
}

void Journal::close() {
  {
    std::lock_guard lock(mutex_);
    if (stopping_ && !writer_.joinable()) return;
    stopping_ = true;
  }
  wake_.notify_one();
  if (writer_.joinable()) writer_.join();
}

void Journal::set_unhealthy(const Error& error) {
  if (healthy_.exchange(false, std::memory_order_acq_rel))
    spdlog::error(
        "event=audit_unavailable error=\"{}\" (commands are refused until the journal "
        "can be written)",
        error.message);
  std::lock_guard lock(mutex_);
  last_error_ = error.message;
  ++stats_.failures;
}

void Journal::run() {
  std::vector<Pending> batch;
  std::unique_lock lock(mutex_);
  auto next_try = std::chrono::steady_clock::now();
  for (;;) {
    const auto now = std::chrono::steady_clock::now();
    const bool healthy = healthy_.load(std::memory_order_acquire);
    if (queued_ == 0) {
      if (stopping_) break;
      if (healthy) {
        wake_.wait(lock);
        continue;
      }
      // Nothing to write, but commands are being refused: find out when the store is back.
      if (now < next_try) {
        wake_.wait_until(lock, next_try);
        continue;
      }
      lock.unlock();
      auto probed = store_->probe();
      if (probed) {
        healthy_.store(true, std::memory_order_release);
        spdlog::info("event=audit_available (the journal takes writes again)");
      }
      lock.lock();
      if (!probed) last_error_ = probed.error().message;
      next_try = std::chrono::steady_clock::now() + options_.retry_interval;
      continue;
    }
    if (!stopping_) {
      if (!healthy && now < next_try) {
        // Appenders that wait would wait for the retry anyway: tell them now.
        if (waited_in_queue_ > 0) {
          std::vector<Pending> refused;
          for (auto& segment : queue_) {
            std::vector<Pending> others;
            for (auto& pending : segment)
              (pending.on_commit ? refused : others).push_back(std::move(pending));
            segment = std::move(others);
          }
          std::erase_if(queue_, [](const auto& segment) { return segment.empty(); });
          queued_ -= refused.size();
          waited_in_queue_ = 0;
          backlog_.store(queued_, std::memory_order_relaxed);
          lock.unlock();
          for (auto& pending : refused) pending.on_commit(false);
          lock.lock();
          continue;
        }
        wake_.wait_until(lock, next_try);
        continue;
      }
      if (healthy && waited_in_queue_ == 0 && queued_ < options_.max_batch) {
        const auto due = queue_.front().front().queued + options_.batch_delay;
        if (now < due) {
          wake_.wait_until(lock, due);
          continue;
        }
      }
    }
    batch = std::move(queue_.front());  // at most max_batch events, none moved one by one
    queue_.pop_front();
    queued_ -= batch.size();
    if (waited_in_queue_ > 0)
      for (const auto& pending : batch)
        if (pending.on_commit) --waited_in_queue_;
    backlog_.store(queued_, std::memory_order_relaxed);
    lock.unlock();

    auto committed = commit(batch);
    if (committed) {
      if (!healthy_.exchange(true, std::memory_order_acq_rel))
        spdlog::info("event=audit_available (the journal takes writes again)");
      for (auto& pending : batch)
        if (pending.on_commit) pending.on_commit(true);
      batch.clear();
      lock.lock();
      if (spare_.capacity() == 0) spare_ = std::move(batch);  // for the next segment
      batch = {};
      continue;
    }
    set_unhealthy(committed.error());
    // Events somebody waits for are dropped (their commands will not run); the others
    // happened already and go back to the head of the queue, in order, to be tried again.
    std::vector<Pending> kept;
    for (auto& pending : batch) {
      if (pending.on_commit) {
        pending.on_commit(false);
      } else {
        kept.push_back(std::move(pending));
      }
    }
    batch = {};
    lock.lock();
    if (stopping_) {
      spdlog::error(
          "event=audit_lost events={} error=\"{}\" (the journal is closing and cannot "
          "write them)",
          kept.size() + queued_, committed.error().message);
      queue_.clear();
      queued_ = 0;
      break;
    }
    queued_ += kept.size();
    if (!kept.empty()) queue_.push_front(std::move(kept));
    backlog_.store(queued_, std::memory_order_relaxed);
    next_try = std::chrono::steady_clock::now() + options_.retry_interval;
  }
  lock.unlock();
  if (auto r = final_checkpoint(); !r)
    spdlog::error("event=audit_checkpoint_failed error=\"{}\"", r.error().message);
}

Result<void> Journal::commit(std::vector<Pending>& batch) {
  // Encoded before the store's transaction starts (its write lock is held for less), in place.
  std::vector<store::JournalEntry> encoded(batch.size());
  for (std::size_t i = 0; i < batch.size(); ++i) encode_event(batch[i].event, encoded[i]);
  int64_t last_seq = 0;
  int64_t checkpoint_seq = 0;
  bool built = false;
  auto written = store_->append([&](const store::JournalTail& tail) -> Result<store::JournalBatch> {
    store::JournalBatch out;
    // The whole vector, not each entry: build runs once per append, and a failed transaction
    // encodes the events again on its next try.
    if (std::exchange(built, true)) return make_error("the journal store built a batch twice");
    out.entries = std::move(encoded);
    const std::string* prev = tail.seq == 0 ? &kGenesisHash : &tail.hash;
    int64_t seq = tail.seq;
    checkpoint_seq = 0;
    for (auto& entry : out.entries) {
      ++seq;
      entry.record[Field::seq] = std::to_string(seq);
      if (!options_.instance.empty()) entry.record[Field::instance] = options_.instance;
      entry.record.prev_hash = *prev;
      entry.record.hash = hasher_.hash(entry.record);
      prev = &entry.record.hash;
      if (options_.checkpoint_every > 0 &&
          static_cast<std::uint64_t>(seq) % options_.checkpoint_every == 0) {
        Checkpoint checkpoint{seq,
                              entry.record.hash,
                              format_time(std::chrono::system_clock::now()),
                              options_.instance,
                              {},
                              {}};
        if (auto r = sign_checkpoint(checkpoint, key_); !r) return r.error();
        out.checkpoints.push_back(std::move(checkpoint));
        checkpoint_seq = seq;
      }
    }
    last_seq = seq;
    return out;
  });
  if (!written) return written;
  std::lock_guard lock(mutex_);
  stats_.events += batch.size();
  ++stats_.commits;
  stats_.last_seq = last_seq;
  if (checkpoint_seq > 0) last_checkpoint_seq_ = checkpoint_seq;
  return {};
}

Result<void> Journal::final_checkpoint() {
  int64_t signed_seq = 0;
  auto written = store_->append([&](const store::JournalTail& tail) -> Result<store::JournalBatch> {
    store::JournalBatch out;
    if (tail.seq == 0 || tail.seq == last_checkpoint_seq_) return out;
    Checkpoint checkpoint{
        tail.seq,          tail.hash, format_time(std::chrono::system_clock::now()),
        options_.instance, {},        {}};
    if (auto r = sign_checkpoint(checkpoint, key_); !r) return r.error();
    out.checkpoints.push_back(std::move(checkpoint));
    signed_seq = tail.seq;
    return out;
  });
  if (!written) return written;
  if (signed_seq > 0) {
    std::lock_guard lock(mutex_);
    last_checkpoint_seq_ = signed_seq;
  }
  return {};
}

}  // namespace portcullis::audit
