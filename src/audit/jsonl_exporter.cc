// Following the journal into a JSONL file: resume after the file's last record, poll, append,
// fsync; and reading the checkpoints back out of such a file.
#include "audit/jsonl_exporter.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <spdlog/spdlog.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <boost/json/parse.hpp>
#include <boost/json/value.hpp>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <fstream>
#include <functional>
#include <optional>

#include "audit/record.h"
#include "common/thread_name.h"

namespace portcullis::audit {
namespace {

// Bytes read at a time when looking for the file's last lines from its end.
constexpr std::size_t kTailChunk = 64 * 1024;

std::string errno_message(std::string_view what, const std::filesystem::path& path) {
  return fmt::format("audit export {}: {}: {}", path.string(), what, std::strerror(errno));
}

// What one line of an export file holds.
struct ExportedLine {
  std::optional<Checkpoint> checkpoint;
  std::int64_t seq = 0;  // of a record line
  std::string hash;      // of a record line
};

Result<Checkpoint> checkpoint_from_json(const boost::json::object& object) {
  Checkpoint checkpoint;
  const auto* seq = object.if_contains("seq");
  if (seq == nullptr || !seq->is_int64()) return make_error("a checkpoint without a seq");
  checkpoint.seq = seq->as_int64();
  const std::pair<const char*, std::string*> texts[] = {{"hash", &checkpoint.hash},
                                                        {"time", &checkpoint.time},
                                                        {"instance", &checkpoint.instance},
                                                        {"key_id", &checkpoint.key_id},
                                                        {"signature", &checkpoint.signature}};
  for (const auto& [name, target] : texts) {
    const auto* value = object.if_contains(name);
    if (value == nullptr) continue;  // a missing field fails the signature check, and says so
    if (!value->is_string())
      return make_error(fmt::format("a checkpoint whose {} is not text", name));
    *target = std::string(value->as_string());
  }
  return checkpoint;
}

Result<ExportedLine> parse_line(std::string_view line) {
  boost::system::error_code ec;
  const auto value = boost::json::parse(line, ec);
  if (ec || !value.is_object()) return make_error("not a JSON object");
  const auto& object = value.as_object();
  ExportedLine out;
  if (const auto* inner = object.if_contains("checkpoint")) {
    if (!inner->is_object()) return make_error("a checkpoint that is not an object");
    auto checkpoint = checkpoint_from_json(inner->as_object());
    if (!checkpoint) return checkpoint.error();
    out.checkpoint = std::move(*checkpoint);
    return out;
  }
  const auto* seq = object.if_contains("seq");
  const auto* hash = object.if_contains("hash");
  if (seq == nullptr || !seq->is_int64() || hash == nullptr || !hash->is_string())
    return make_error("neither a record nor a checkpoint");
  out.seq = seq->as_int64();
  out.hash = std::string(hash->as_string());
  return out;
}

// Calls `visit` with the complete lines of the first `size` bytes of `fd`, last line first,
// until it returns false. Memory: one chunk and the longest line.
Result<void> for_each_line_backwards(int fd, off_t size, const std::filesystem::path& path,
                                     const std::function<Result<bool>(std::string_view)>& visit) {
  std::string carry;  // the start of a line whose beginning is in an earlier chunk
  std::string chunk;
  off_t end = size;
  while (end > 0) {
    const off_t start = std::max<off_t>(0, end - static_cast<off_t>(kTailChunk));
    chunk.resize(static_cast<std::size_t>(end - start));
    if (::pread(fd, chunk.data(), chunk.size(), start) != static_cast<ssize_t>(chunk.size()))
      return make_error(errno_message("cannot read", path));
    chunk += carry;
    // Lines are split on '\n'; the text before the first one may continue in the chunk before.
    std::size_t line_end = chunk.size();
    for (std::size_t i = chunk.size(); i-- > 0;) {
      if (chunk[i] != '\n') continue;
      if (i + 1 < line_end) {
        auto more = visit(std::string_view(chunk).substr(i + 1, line_end - i - 1));
        if (!more) return more.error();
        if (!*more) return {};
      }
      line_end = i;
    }
    carry = chunk.substr(0, line_end);
    end = start;
  }
  if (!carry.empty()) {
    auto more = visit(carry);
    if (!more) return more.error();
  }
  return {};
}

// The size of the first `size` bytes of `fd` up to and including its last '\n' (0 if none).
Result<off_t> end_of_last_line(int fd, off_t size, const std::filesystem::path& path) {
  std::string chunk;
  off_t end = size;
  while (end > 0) {
    const off_t start = std::max<off_t>(0, end - static_cast<off_t>(kTailChunk));
    chunk.resize(static_cast<std::size_t>(end - start));
    if (::pread(fd, chunk.data(), chunk.size(), start) != static_cast<ssize_t>(chunk.size()))
      return make_error(errno_message("cannot read", path));
    const auto newline = chunk.rfind('\n');
    if (newline != std::string::npos) return start + static_cast<off_t>(newline) + 1;
    end = start;
  }
  return off_t{0};
}

}  // namespace

Result<std::unique_ptr<JsonlExporter>> JsonlExporter::start(
    std::unique_ptr<store::JournalStore> store, JsonlExporterOptions options) {
  std::error_code ec;
  if (options.path.has_parent_path())
    std::filesystem::create_directories(options.path.parent_path(), ec);
  if (ec)
    return make_error(fmt::format("audit export {}: cannot create its folder: {}",
                                  options.path.string(), ec.message()));
  const int fd = ::open(options.path.c_str(), O_RDWR | O_CREAT | O_APPEND | O_CLOEXEC, 0640);
  if (fd < 0) return make_error(errno_message("cannot open", options.path));
  // Two exporters appending to one file would interleave and duplicate lines.
  if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
    const int error = errno;
    ::close(fd);
    if (error == EWOULDBLOCK)
      return make_error(fmt::format("audit export {}: another exporter is writing this file",
                                    options.path.string()));
    errno = error;
    return make_error(errno_message("cannot lock", options.path));
  }
  std::unique_ptr<JsonlExporter> exporter(
      new JsonlExporter(std::move(store), std::move(options), fd));
  if (auto r = exporter->resume(); !r) return r.error();
  exporter->thread_ = std::thread([e = exporter.get()] {
    name_this_thread("jsonl export");
    e->run();
  });
  return exporter;
}

JsonlExporter::JsonlExporter(std::unique_ptr<store::JournalStore> store,
                             JsonlExporterOptions options, int fd)
    : store_(std::move(store)), options_(std::move(options)), fd_(fd) {}

JsonlExporter::~JsonlExporter() {
  stop();
  ::close(fd_);
}

std::string JsonlExporter::last_error() const {
  std::lock_guard lock(mutex_);
  return last_error_;
}

void JsonlExporter::stop() {
  {
    std::lock_guard lock(mutex_);
    if (stopping_) return;
    stopping_ = true;
  }
  if (!thread_.joinable()) return;  // start() failed: the file is not to be touched
  wake_.notify_one();
  thread_.join();
  // The journal signs its last checkpoint when it closes, after its last records: a last
  // look at the checkpoints carries it into the file.
  record_outcome(poll(true));
}

Result<void> JsonlExporter::resume() {
  const auto& path = options_.path;
  struct stat st {};
  if (::fstat(fd_, &st) != 0) return make_error(errno_message("cannot stat", path));
  file_size_ = st.st_size;
  // A crash while appending can leave a partial last line: drop it, it is written again.
  if (file_size_ > 0) {
    char last = '\n';
    if (::pread(fd_, &last, 1, file_size_ - 1) != 1)
      return make_error(errno_message("cannot read", path));
    if (last != '\n') {
      auto keep = end_of_last_line(fd_, file_size_, path);
      if (!keep) return keep.error();
      spdlog::warn("event=audit_export_torn_line path=\"{}\" bytes={} (dropped; exported again)",
                   path.string(), file_size_ - *keep);
      if (::ftruncate(fd_, *keep) != 0 || ::fsync(fd_) != 0)
        return make_error(errno_message("cannot drop a torn last line", path));
      file_size_ = *keep;
    }
  }
  // Back from the end to the last record line. Checkpoint lines follow the record they pin,
  // so those after it are the only ones that may pin it or later records; every checkpoint
  // before it went out when the exporter passed its record (or later, which also precedes
  // this line).
  bool found_record = false;
  std::optional<std::int64_t> checkpoint_after_record;
  std::int64_t seq = 0;
  std::string hash;
  std::int64_t line_from_end = 0;
  auto scanned = for_each_line_backwards(fd_, file_size_, path, [&](std::string_view line) {
    ++line_from_end;
    auto parsed = parse_line(line);
    if (!parsed)
      return Result<bool>(make_error(fmt::format(
          "audit export {}: line {} from the end is {}: this is not a file the exporter wrote",
          path.string(), line_from_end, parsed.error().message)));
    if (parsed->checkpoint) {
      checkpoint_after_record =
          std::max(checkpoint_after_record.value_or(0), parsed->checkpoint->seq);
      return Result<bool>(true);
    }
    seq = parsed->seq;
    hash = std::move(parsed->hash);
    found_record = true;
    return Result<bool>(false);
  });
  if (!scanned) return scanned;
  if (found_record) {
    store::JournalFilter filter;
    filter.own_chain = true;
    filter.after_seq = seq - 1;
    filter.limit = 1;
    auto records = store_->search(filter);
    if (!records) return records.error();
    if (records->empty() || seq_of(records->front()) != seq)
      return make_error(fmt::format(
          "audit export {}: the file holds records up to seq {}, which the journal does not "
          "have: the journal was cut back, or the file belongs to another state store",
          path.string(), seq));
    if (records->front().hash != hash)
      return make_error(fmt::format(
          "audit export {}: record {} in the file has another hash than in the journal: the "
          "journal was rewritten, or the file belongs to another state store",
          path.string(), seq));
  }
  last_checkpoint_in_file_ = checkpoint_after_record.value_or(found_record ? seq - 1 : 0);
  exported_seq_.store(seq, std::memory_order_release);
  spdlog::info("event=audit_export_started path=\"{}\" after_seq={}", path.string(), seq);
  return load_checkpoints();
}

void JsonlExporter::run() {
  bool first = true;
  std::unique_lock lock(mutex_);
  while (!stopping_) {
    lock.unlock();
    record_outcome(poll(first));
    first = false;
    lock.lock();
    wake_.wait_for(lock, options_.poll_interval, [this] { return stopping_; });
  }
}

Result<void> JsonlExporter::load_checkpoints() {
  auto checkpoints = store_->checkpoints();
  if (!checkpoints) return checkpoints.error();
  for (auto& checkpoint : *checkpoints)
    if (checkpoint.seq > last_checkpoint_in_file_)
      pending_checkpoints_.emplace(checkpoint.seq, std::move(checkpoint));
  return {};
}

Result<void> JsonlExporter::poll(bool read_checkpoints) {
  store::JournalFilter filter;
  filter.own_chain = true;
  filter.limit = options_.page_size;
  std::string lines;
  for (;;) {
    const std::int64_t exported = exported_seq();
    filter.after_seq = exported;
    auto records = store_->search(filter);
    if (!records) return records.error();
    const std::int64_t last = records->empty() ? exported : seq_of(records->back());
    const auto every = static_cast<std::int64_t>(options_.checkpoint_every);
    // After the records: a checkpoint committed with them is visible now.
    if (read_checkpoints || (every > 0 && last / every > exported / every)) {
      if (auto r = load_checkpoints(); !r) return r;
      read_checkpoints = false;
    }
    if (!records->empty() && seq_of(records->front()) != exported + 1)
      spdlog::warn(
          "event=audit_export_gap path=\"{}\" after_seq={} next_seq={} (the journal "
          "misses records; run portcullis audit verify)",
          options_.path.string(), exported, seq_of(records->front()));
    lines.clear();
    auto checkpoint = pending_checkpoints_.begin();
    auto add_checkpoints_up_to = [&](std::int64_t seq) {
      for (; checkpoint != pending_checkpoints_.end() && checkpoint->first <= seq; ++checkpoint) {
        lines += checkpoint_to_json(checkpoint->second);
        lines += '\n';
      }
    };
    add_checkpoints_up_to(exported);
    for (const auto& record : *records) {
      lines += to_json(record);
      lines += '\n';
      add_checkpoints_up_to(seq_of(record));
    }
    if (lines.empty()) return {};
    if (auto r = write_synced(lines); !r) return r;
    if (checkpoint != pending_checkpoints_.begin())
      last_checkpoint_in_file_ = std::prev(checkpoint)->first;
    pending_checkpoints_.erase(pending_checkpoints_.begin(), checkpoint);
    exported_seq_.store(last, std::memory_order_release);
    if (records->size() < options_.page_size) return {};
  }
}

Result<void> JsonlExporter::write_synced(const std::string& lines) {
  std::size_t written = 0;
  while (written < lines.size()) {
    const ssize_t n = ::write(fd_, lines.data() + written, lines.size() - written);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      auto error = make_error(errno_message("cannot write", options_.path));
      (void)::ftruncate(fd_, file_size_);
      return error;
    }
    written += static_cast<std::size_t>(n);
  }
  if (::fsync(fd_) != 0) {
    auto error = make_error(errno_message("cannot sync", options_.path));
    (void)::ftruncate(fd_, file_size_);
    return error;
  }
  file_size_ += static_cast<off_t>(lines.size());
  return {};
}

void JsonlExporter::record_outcome(const Result<void>& outcome) {
  if (outcome) {
    if (!healthy_.exchange(true, std::memory_order_acq_rel))
      spdlog::info("event=audit_export_resumed path=\"{}\"", options_.path.string());
    return;
  }
  std::lock_guard lock(mutex_);
  if (outcome.error().message != last_error_ || healthy_.load(std::memory_order_acquire))
    spdlog::error("event=audit_export_failed path=\"{}\" error=\"{}\" (tried again)",
                  options_.path.string(), outcome.error().message);
  last_error_ = outcome.error().message;
  healthy_.store(false, std::memory_order_release);
}

Result<std::vector<Checkpoint>> read_exported_checkpoints(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in)
    return make_error(fmt::format("cannot read {}: {}", path.string(), std::strerror(errno)));
  std::vector<Checkpoint> out;
  std::string line;
  std::size_t number = 0;
  while (std::getline(in, line)) {
    ++number;
    // Without its '\n' the last line may be cut short by a crash: it is no evidence either way.
    if (in.eof()) break;
    if (line.empty()) continue;
    auto parsed = parse_line(line);
    if (!parsed)
      return make_error(fmt::format("{}:{}: {}", path.string(), number, parsed.error().message));
    if (parsed->checkpoint) out.push_back(std::move(*parsed->checkpoint));
  }
  if (in.bad()) return make_error(fmt::format("cannot read {}", path.string()));
  return out;
}

}  // namespace portcullis::audit
