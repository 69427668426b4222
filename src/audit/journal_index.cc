// The index thread: batches of committed records into the state store, catching up from the
// segments whenever the store's tail is short of what it is handed.
#include "audit/journal_index.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <charconv>
#include <limits>
#include <utility>

#include "audit/record.h"
#include "audit/segment_files.h"
#include "common/thread_name.h"

namespace portcullis::audit {
namespace {

// Records per transaction when catching up from the segments.
constexpr std::size_t kCatchUpChunk = 4096;
// Records that, once queued, are indexed without waiting for the delay.
constexpr std::size_t kEagerBatch = 4096;

}  // namespace

JournalIndex::JournalIndex(std::unique_ptr<store::JournalStore> store, Options options,
                           std::int64_t journal_seq)
    : store_(std::move(store)), options_(std::move(options)), catch_up_to_(journal_seq) {
  if (auto tail = store_->tail()) indexed_seq_ = tail->seq;
  if (auto checkpoints = store_->checkpoints(); checkpoints && !checkpoints->empty())
    last_checkpoint_seq_ = checkpoints->back().seq;
  thread_ = std::thread([this] {
    name_this_thread("journal index");
    run();
  });
}

JournalIndex::~JournalIndex() {
  close();
}

void JournalIndex::add(std::vector<store::JournalEntry>&& entries,
                       std::vector<store::JournalCheckpoint>&& checkpoints) {
  bool wake = false;
  {
    std::lock_guard lock(mutex_);
    if (queued_entries_.size() + entries.size() > options_.backlog_limit) {
      // Too many to keep: the segments have them all, read them back later.
      std::int64_t last = entries.empty() ? 0 : seq_of(entries.back().record);
      if (!queued_entries_.empty()) last = std::max(last, seq_of(queued_entries_.back().record));
      for (const auto& checkpoint : checkpoints) last = std::max(last, checkpoint.seq);
      catch_up_to_ = std::max(catch_up_to_, last);
      queued_entries_.clear();
      queued_checkpoints_.clear();
      return;
    }
    wake = queued_entries_.empty() && queued_checkpoints_.empty();
    if (queued_entries_.empty()) {
      queued_entries_ = std::move(entries);
    } else {
      std::move(entries.begin(), entries.end(), std::back_inserter(queued_entries_));
    }
    std::move(checkpoints.begin(), checkpoints.end(), std::back_inserter(queued_checkpoints_));
    wake = wake || queued_entries_.size() >= kEagerBatch;
  }
  if (wake) wake_.notify_one();
}

std::int64_t JournalIndex::indexed_seq() const {
  std::lock_guard lock(mutex_);
  return indexed_seq_;
}

bool JournalIndex::wait_indexed(std::int64_t seq, std::chrono::milliseconds timeout) {
  std::unique_lock lock(mutex_);
  return indexed_.wait_for(lock, timeout, [&] { return indexed_seq_ >= seq; });
}

void JournalIndex::close() {
  {
    std::lock_guard lock(mutex_);
    if (stopping_ && !thread_.joinable()) return;
    stopping_ = true;
  }
  wake_.notify_one();
  if (thread_.joinable()) thread_.join();
}

void JournalIndex::run() {
  std::unique_lock lock(mutex_);
  bool failing = false;
  for (;;) {
    const bool idle =
        queued_entries_.empty() && queued_checkpoints_.empty() && catch_up_to_ <= indexed_seq_;
    if (idle) {
      if (stopping_) break;
      if (options_.probe_interval.count() == 0) {
        wake_.wait(lock);
        continue;
      }
      if (wake_.wait_for(lock, options_.probe_interval) == std::cv_status::no_timeout) continue;
      lock.unlock();
      const bool reachable = store_->probe().ok();
      lock.lock();
      if (reachable != healthy_.load()) {
        if (reachable)
          spdlog::info("event=audit_index_available");
        else
          spdlog::error("event=audit_index_failed error=\"the state store cannot be written\"");
      }
      healthy_.store(reachable, std::memory_order_release);
      failing = !reachable;
      continue;
    }
    if (failing) {
      if (stopping_) break;  // nothing is lost: the segments hold it for the next start
      wake_.wait_for(lock, options_.retry_interval);
    } else if (!stopping_ && queued_entries_.size() < kEagerBatch) {
      wake_.wait_for(lock, options_.delay,
                     [&] { return stopping_ || queued_entries_.size() >= kEagerBatch; });
    }
    store::JournalBatch batch;
    batch.entries = std::move(queued_entries_);
    batch.checkpoints = std::move(queued_checkpoints_);
    queued_entries_ = {};
    queued_checkpoints_ = {};
    const std::int64_t catch_up_to = catch_up_to_;
    std::int64_t last = catch_up_to;
    if (!batch.entries.empty()) last = std::max(last, seq_of(batch.entries.back().record));
    for (const auto& checkpoint : batch.checkpoints) last = std::max(last, checkpoint.seq);
    lock.unlock();

    Result<void> done;
    if (catch_up_to > indexed_seq()) done = catch_up(catch_up_to);
    if (done && (!batch.entries.empty() || !batch.checkpoints.empty()))
      done = apply(batch, batch.entries.empty() ? 0 : seq_of(batch.entries.front().record));

    lock.lock();
    if (!done) {
      // What was taken is read back from the segments on the next try.
      catch_up_to_ = std::max(catch_up_to_, last);
      if (!failing)
        spdlog::error(
            "event=audit_index_failed error=\"{}\" (audit search lags until the state store "
            "takes writes; the journal itself is not affected)",
            done.error().message);
      failing = true;
      healthy_.store(false, std::memory_order_release);
      continue;
    }
    if (failing) spdlog::info("event=audit_index_available");
    failing = false;
    healthy_.store(true, std::memory_order_release);
    indexed_.notify_all();
  }
}

Result<void> JournalIndex::apply(store::JournalBatch& batch, std::int64_t first_seq) {
  if (first_seq > indexed_seq() + 1)
    if (auto r = catch_up(first_seq - 1); !r) return r;
  return append(batch);
}

Result<void> JournalIndex::append(store::JournalBatch& batch) {
  std::int64_t last_entry = 0;
  std::int64_t last_checkpoint = last_checkpoint_seq_;
  auto written = store_->append([&](const store::JournalTail& tail) -> Result<store::JournalBatch> {
    store::JournalBatch out;
    // Records the store has already (another process caught up first, or a retry) are left
    // out; a hole before the first is an error the caller answers by catching up.
    std::size_t skip = 0;
    while (skip < batch.entries.size() && seq_of(batch.entries[skip].record) <= tail.seq) ++skip;
    if (skip < batch.entries.size() && seq_of(batch.entries[skip].record) != tail.seq + 1)
      return make_error("the index is missing records before this batch");
    out.entries.assign(
        std::make_move_iterator(batch.entries.begin() + static_cast<std::ptrdiff_t>(skip)),
        std::make_move_iterator(batch.entries.end()));
    for (auto& checkpoint : batch.checkpoints)
      if (checkpoint.seq > last_checkpoint_seq_) {
        last_checkpoint = std::max(last_checkpoint, checkpoint.seq);
        out.checkpoints.push_back(std::move(checkpoint));
      }
    last_entry = out.entries.empty() ? tail.seq : seq_of(out.entries.back().record);
    return out;
  });
  if (!written) return written;
  last_checkpoint_seq_ = last_checkpoint;
  std::lock_guard lock(mutex_);
  indexed_seq_ = std::max(indexed_seq_, last_entry);
  return {};
}

Result<void> JournalIndex::catch_up(std::int64_t up_to_seq) {
  store::JournalBatch chunk;
  Result<void> appended;
  SegmentVisitor visitor;
  visitor.on_record = [&](const store::JournalEntry& entry) {
    if (seq_of(entry.record) > up_to_seq) return false;
    chunk.entries.push_back(entry);
    if (chunk.entries.size() >= kCatchUpChunk) {
      appended = append(chunk);
      chunk = {};
      if (!appended) return false;
    }
    return true;
  };
  visitor.on_checkpoint = [&](const store::JournalCheckpoint& checkpoint) {
    if (checkpoint.seq > last_checkpoint_seq_ && checkpoint.seq <= up_to_seq)
      chunk.checkpoints.push_back(checkpoint);
    return true;
  };
  auto read = read_segments(options_.dir, indexed_seq() + 1, visitor);
  if (!read) return read.error();
  if (!appended) return appended;
  if (!chunk.entries.empty() || !chunk.checkpoints.empty())
    if (auto r = append(chunk); !r) return r;
  std::lock_guard lock(mutex_);
  // Whatever the segments held up to there is in; a damaged segment is verify's to report.
  indexed_seq_ = std::max(indexed_seq_, std::min(up_to_seq, read->last_seq));
  return {};
}

}  // namespace portcullis::audit
