// The journal's writer thread: group commit, hash chain, checkpoints, failure and recovery.
#include "audit/journal.h"

#include <spdlog/spdlog.h>

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

void Journal::append(Event event, Completion on_commit) {
  bool wake = false;
  {
    std::lock_guard lock(mutex_);
    const bool waited = static_cast<bool>(on_commit);
    queue_.push_back(
        Pending{std::move(event), std::move(on_commit), std::chrono::steady_clock::now()});
    backlog_.store(queue_.size(), std::memory_order_relaxed);
    if (waited) ++waited_in_queue_;
    // Someone waits, or a batch is full: the writer goes now. Otherwise it wakes by itself
    // when the oldest event has waited batch_delay.
    wake = waited || queue_.size() == 1 || queue_.size() >= options_.max_batch;
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
  stats.queued = queue_.size();
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
  std::deque<Pending> batch;
  std::unique_lock lock(mutex_);
  auto next_try = std::chrono::steady_clock::now();
  for (;;) {
    const auto now = std::chrono::steady_clock::now();
    const bool healthy = healthy_.load(std::memory_order_acquire);
    if (queue_.empty()) {
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
          std::deque<Pending> refused;
          for (auto it = queue_.begin(); it != queue_.end();) {
            if (it->on_commit) {
              refused.push_back(std::move(*it));
              it = queue_.erase(it);
            } else {
              ++it;
            }
          }
          waited_in_queue_ = 0;
          backlog_.store(queue_.size(), std::memory_order_relaxed);
          lock.unlock();
          for (auto& pending : refused) pending.on_commit(false);
          lock.lock();
          continue;
        }
        wake_.wait_until(lock, next_try);
        continue;
      }
      if (healthy && waited_in_queue_ == 0 && queue_.size() < options_.max_batch) {
        const auto due = queue_.front().queued + options_.batch_delay;
        if (now < due) {
          wake_.wait_until(lock, due);
          continue;
        }
      }
    }
    while (!queue_.empty() && batch.size() < options_.max_batch) {
      if (queue_.front().on_commit) --waited_in_queue_;
      batch.push_back(std::move(queue_.front()));
      queue_.pop_front();
    }
    backlog_.store(queue_.size(), std::memory_order_relaxed);
    lock.unlock();

    auto committed = commit(batch);
    if (committed) {
      if (!healthy_.exchange(true, std::memory_order_acq_rel))
        spdlog::info("event=audit_available (the journal takes writes again)");
      for (auto& pending : batch)
        if (pending.on_commit) pending.on_commit(true);
      batch.clear();
      lock.lock();
      continue;
    }
    set_unhealthy(committed.error());
    // Events somebody waits for are dropped (their commands will not run); the others
    // happened already and go back to the head of the queue, in order, to be tried again.
    std::deque<Pending> kept;
    for (auto& pending : batch) {
      if (pending.on_commit) {
        pending.on_commit(false);
      } else {
        kept.push_back(std::move(pending));
      }
    }
    batch.clear();
    lock.lock();
    if (stopping_) {
      spdlog::error(
          "event=audit_lost events={} error=\"{}\" (the journal is closing and cannot "
          "write them)",
          kept.size() + queue_.size(), committed.error().message);
      queue_.clear();
      break;
    }
    for (auto it = kept.rbegin(); it != kept.rend(); ++it) queue_.push_front(std::move(*it));
    backlog_.store(queue_.size(), std::memory_order_relaxed);
    next_try = std::chrono::steady_clock::now() + options_.retry_interval;
  }
  lock.unlock();
  if (auto r = final_checkpoint(); !r)
    spdlog::error("event=audit_checkpoint_failed error=\"{}\"", r.error().message);
}

Result<void> Journal::commit(std::deque<Pending>& batch) {
  std::vector<EncodedEvent> encoded;
  encoded.reserve(batch.size());
  for (const auto& pending : batch) encoded.push_back(encode_event(pending.event));
  int64_t last_seq = 0;
  int64_t checkpoint_seq = 0;
  auto written = store_->append([&](const store::JournalTail& tail) -> Result<store::JournalBatch> {
    store::JournalBatch out;
    out.entries.reserve(encoded.size());
    std::string prev = tail.seq == 0 ? kGenesisHash : tail.hash;
    int64_t seq = tail.seq;
    checkpoint_seq = 0;
    // Moved, not copied: a failed transaction encodes the events again on its next try.
    for (auto& event : encoded) {
      store::JournalEntry entry{std::move(event.record), std::move(event.results)};
      ++seq;
      entry.record[Field::seq] = std::to_string(seq);
      if (!options_.instance.empty()) entry.record[Field::instance] = options_.instance;
      entry.record.prev_hash = prev;
      entry.record.hash = record_hash(entry.record);
      prev = entry.record.hash;
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
      out.entries.push_back(std::move(entry));
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
