// The journal's writer thread: group commit into segment files, hash chain, checkpoints,
// failure and recovery; what it finds at start.
#include "audit/journal.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <charconv>
#include <utility>

#include "audit/checkpoint.h"
#include "audit/record.h"
#include "audit/segment_format.h"
#include "common/thread_name.h"

namespace portcullis::audit {
namespace {

// How soon a journal that requires its index notices the store gone (or back) between
// records: within about a second, as the several-instances contract says.
constexpr std::chrono::milliseconds kIndexProbeInterval{500};

// The hash of record `seq` in the segments, or empty when they do not hold it.
Result<std::string> segment_hash(const std::filesystem::path& dir, std::int64_t seq) {
  std::string hash;
  SegmentVisitor visitor;
  visitor.on_record = [&](const store::JournalEntry& entry) {
    if (seq_of(entry.record) == seq) hash = entry.record.hash;
    return false;
  };
  auto read = read_segments(dir, seq, visitor);
  if (!read) return read.error();
  return hash;
}

constexpr std::size_t kMoveChunk = 4u << 20;

// A record too large for a frame's length field (4 GiB: kept rows and bound values escaped
// as JSON can grow past the message that carried them) keeps its command and says what it
// left out, rather than writing a frame no reader could take.
void fit_frame(store::JournalEntry& entry) {
  if (segment::record_frame_size(entry) <= segment::kMaxFrame) return;
  if (entry.results) {
    entry.results.reset();
    entry.record[Field::results_sha256].reset();
  }
  if (segment::record_frame_size(entry) <= segment::kMaxFrame) return;
  if (auto& params = entry.record[Field::params])
    params = fmt::format("[\"(bound values of {} bytes not recorded: too large for the journal)\"]",
                         params->size());
}

}  // namespace

Result<std::unique_ptr<Journal>> Journal::start(std::unique_ptr<store::JournalStore> index,
                                                identity::SigningKey key, JournalOptions options) {
  if (options.dir.empty()) return make_error("audit journal: no folder for its segment files");
  std::error_code ec;
  const bool new_folder = !std::filesystem::exists(options.dir, ec);
  SegmentStart found;
  auto writer = SegmentWriter::open({options.dir, options.segment_size}, found);
  if (!writer) return writer.error();
  std::unique_ptr<Journal> journal(new Journal(std::move(key), std::move(options)));
  const auto& dir = journal->options_.dir;
  journal->writer_ = std::move(*writer);
  journal->last_seq_ = found.last_seq;
  journal->last_hash_ = found.last_hash;
  journal->last_checkpoint_seq_ = found.last_checkpoint_seq;
  if (index) {
    auto tail = index->tail();
    if (!tail) return tail.error();
    if (new_folder && found.last_seq == 0 && tail->seq > 0) {
      if (auto r = journal->move_from_index(*index); !r) return r.error();
    } else if (tail->seq > found.last_seq) {
      return make_error(fmt::format(
          "audit journal: the segments in {} end at seq {}, but the index in the state store "
          "holds records up to seq {}: records {} to {} are missing from the segments; nothing "
          "is written after a shorter history: see docs/audit.md#when-the-journal-is-damaged",
          dir.string(), found.last_seq, tail->seq, found.last_seq + 1, tail->seq));
    } else if (tail->seq > 0) {
      auto hash = segment_hash(dir, tail->seq);
      if (!hash) return hash.error();
      if (*hash != tail->hash)
        return make_error(fmt::format(
            "audit journal: record {} in the segments in {} is not the record the index holds: "
            "the journal was rewritten; see docs/audit.md#when-the-journal-is-damaged",
            tail->seq, dir.string()));
    }
    JournalIndex::Options index_options;
    index_options.dir = dir;
    if (options.index_required) index_options.probe_interval = kIndexProbeInterval;
    journal->index_ =
        std::make_unique<JournalIndex>(std::move(index), index_options, journal->last_seq_);
  }
  journal->stats_.last_seq = journal->last_seq_;
  if (found.torn) {
    // Said, not dropped: the first record after the break names what could not be read.
    const TornTail& torn = *found.torn;
    Event recovery;
    recovery.event = std::string(kEventRecovery);
    recovery.id = fmt::format("recovery.{}", journal->last_seq_ + 1);
    recovery.time = std::chrono::system_clock::now();
    recovery.error = fmt::format(
        "the journal ended in {} bytes at offset {} of {} that are not whole records, after seq "
        "{}: a group write cut short (a crash or power loss), or damage; they were never "
        "confirmed as written (in strict mode, no statement among them ran); kept in {}",
        torn.bytes, torn.offset, torn.segment.filename().string(), torn.after_seq,
        found.torn_copy.filename().string());
    spdlog::error("event=audit_recovered {}", recovery.error);
    std::vector<Pending> batch;
    batch.emplace_back(std::move(recovery), Completion{}, std::chrono::steady_clock::now());
    if (auto r = journal->commit(batch, true); !r) return r.error();
  } else if (auto r = journal->pin_end(); !r) {
    // A restart after a crash pins the end it found before writing after it.
    return r.error();
  }
  journal->writer_thread_ = std::thread([j = journal.get()] {
    name_this_thread("journal");
    j->run();
  });
  return journal;
}

Result<void> Journal::move_from_index(store::JournalStore& index) {
  auto checkpoints = index.checkpoints();
  if (!checkpoints) return checkpoints.error();
  std::size_t next_checkpoint = 0;
  std::int64_t first_seq = 0;
  std::int64_t moved = 0;
  Result<void> written;
  auto flush = [&]() -> bool {
    if (frames_.empty()) return true;
    written = writer_->append(frames_, first_seq);
    frames_.clear();
    first_seq = 0;
    return static_cast<bool>(written);
  };
  auto scanned = index.scan(1, [&](const store::JournalEntry& entry) {
    const std::int64_t seq = seq_of(entry.record);
    if (first_seq == 0) first_seq = seq;
    segment::append_record_frame(entry, frames_);
    while (next_checkpoint < checkpoints->size() && (*checkpoints)[next_checkpoint].seq <= seq) {
      segment::append_checkpoint_frame((*checkpoints)[next_checkpoint], frames_);
      last_checkpoint_seq_ = (*checkpoints)[next_checkpoint].seq;
      ++next_checkpoint;
    }
    last_seq_ = seq;
    last_hash_ = entry.record.hash;
    ++moved;
    return frames_.size() < kMoveChunk || flush();
  });
  if (!scanned) return scanned.error();
  if (!written || !flush()) return written;
  writer_->write_head({last_seq_, last_hash_});
  spdlog::info(
      "event=audit_moved records={} dir={} (the journal now lives in segment files; the state "
      "store keeps its index)",
      moved, options_.dir.string());
  return {};
}

Journal::Journal(identity::SigningKey key, JournalOptions options)
    : key_(std::move(key)), options_(std::move(options)) {}

Journal::~Journal() {
  close();
}

void Journal::append(Event&& event, Completion on_commit) {
  bool wake = false;
  {
    std::unique_lock lock(mutex_);
    const bool waited = static_cast<bool>(on_commit);
    if (queued_ >= options_.outage_limit && !healthy_.load(std::memory_order_acquire)) {
      // Memory is bounded: past the limit events are counted, and the count is recorded when
      // the journal can be written again.
      if (lost_while_unavailable_++ == 0) lost_since_ = event.time;
      lock.unlock();
      if (on_commit) on_commit(false);
      return;
    }
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
  if (index_) stats.indexed_seq = index_->indexed_seq();
  return stats;
}

void Journal::close() {
  {
    std::lock_guard lock(mutex_);
    if (stopping_ && !writer_thread_.joinable()) return;
    stopping_ = true;
  }
  wake_.notify_one();
  if (writer_thread_.joinable()) writer_thread_.join();
  if (index_) index_->close();
}

bool Journal::wait_indexed(std::chrono::milliseconds timeout) {
  std::int64_t last;
  {
    std::lock_guard lock(mutex_);
    last = stats_.last_seq;
  }
  return !index_ || index_->wait_indexed(last, timeout);
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
      auto probed = writer_->probe();
      if (probed) {
        healthy_.store(true, std::memory_order_release);
        spdlog::info("event=audit_available (the journal takes writes again)");
        record_loss();
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
            for (auto& pending : segment) {
              if (pending.on_commit) forget(pending.event.id);
              (pending.on_commit ? refused : others).push_back(std::move(pending));
            }
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
      if (!healthy_.exchange(true, std::memory_order_acq_rel)) {
        spdlog::info("event=audit_available (the journal takes writes again)");
        record_loss();
      }
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
        forget(pending.event.id);
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
  if (auto r = pin_end(); !r)
    spdlog::error("event=audit_checkpoint_failed error=\"{}\"", r.error().message);
}

void Journal::forget(const std::string& id) {
  if (forgotten_.size() >= kMaxForgotten) forgotten_.clear();
  forgotten_.insert(id);
}

void Journal::record_loss() {
  std::uint64_t lost;
  TimePoint since;
  {
    std::lock_guard lock(mutex_);
    lost = std::exchange(lost_while_unavailable_, 0);
    since = lost_since_;
  }
  if (lost == 0) return;
  Event loss;
  loss.event = std::string(kEventRecovery);
  loss.time = std::chrono::system_clock::now();
  loss.id = fmt::format("recovery.lost.{}", format_time(loss.time));
  loss.error = fmt::format(
      "the journal could not be written from {} on; {} events beyond the {} kept in memory "
      "meanwhile were not recorded",
      format_time(since), lost, options_.outage_limit);
  spdlog::error("event=audit_lost {}", loss.error);
  append(std::move(loss));
}

Result<void> Journal::commit(std::vector<Pending>& batch, bool pin) {
  if (!forgotten_.empty()) {
    // The outcome of a statement whose record was dropped (its command never ran) would name
    // a record the journal does not hold.
    std::erase_if(batch, [&](const Pending& pending) {
      return pending.event.event == kEventResult && forgotten_.erase(pending.event.statement) > 0;
    });
  }
  // Encoded, chained and framed in place; the entries go on to the index once written.
  std::vector<store::JournalEntry> entries(batch.size());
  std::vector<store::JournalCheckpoint> checkpoints;
  frames_.clear();
  std::int64_t seq = last_seq_;
  const std::string* prev = last_seq_ == 0 ? &kGenesisHash : &last_hash_;
  for (std::size_t i = 0; i < batch.size(); ++i) {
    auto& entry = entries[i];
    encode_event(batch[i].event, entry);
    fit_frame(entry);
    ++seq;
    entry.record[Field::seq] = std::to_string(seq);
    if (!options_.instance.empty()) entry.record[Field::instance] = options_.instance;
    entry.record.prev_hash = *prev;
    entry.record.hash = hasher_.hash(entry.record);
    prev = &entry.record.hash;
    segment::append_record_frame(entry, frames_);
    const bool every = options_.checkpoint_every > 0 &&
                       static_cast<std::uint64_t>(seq) % options_.checkpoint_every == 0;
    if (every || (pin && i + 1 == batch.size())) {
      Checkpoint checkpoint{seq,
                            entry.record.hash,
                            format_time(std::chrono::system_clock::now()),
                            options_.instance,
                            {},
                            {}};
      if (auto r = sign_checkpoint(checkpoint, key_); !r) return r.error();
      segment::append_checkpoint_frame(checkpoint, frames_);
      checkpoints.push_back(std::move(checkpoint));
    }
  }
  if (entries.empty()) return {};
  if (auto r = writer_->append(frames_, last_seq_ + 1); !r) return r;
  last_seq_ = seq;
  last_hash_ = entries.back().record.hash;
  writer_->write_head({last_seq_, last_hash_});
  const std::int64_t checkpoint_seq = checkpoints.empty() ? 0 : checkpoints.back().seq;
  if (index_) index_->add(std::move(entries), std::move(checkpoints));
  std::lock_guard lock(mutex_);
  stats_.events += batch.size();
  ++stats_.commits;
  stats_.last_seq = seq;
  if (checkpoint_seq > 0) last_checkpoint_seq_ = checkpoint_seq;
  return {};
}

Result<void> Journal::pin_end() {
  if (last_seq_ == 0 || last_checkpoint_seq_ >= last_seq_) return {};
  Checkpoint checkpoint{
      last_seq_,         last_hash_, format_time(std::chrono::system_clock::now()),
      options_.instance, {},         {}};
  if (auto r = sign_checkpoint(checkpoint, key_); !r) return r.error();
  frames_.clear();
  segment::append_checkpoint_frame(checkpoint, frames_);
  if (auto r = writer_->append(frames_, last_seq_ + 1); !r) return r;
  if (index_) index_->add({}, {checkpoint});
  std::lock_guard lock(mutex_);
  last_checkpoint_seq_ = last_seq_;
  return {};
}

}  // namespace portcullis::audit
