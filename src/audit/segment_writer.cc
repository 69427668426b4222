// Segment files: open, append with one write and one fdatasync, rotate, set a torn tail aside.
#include "audit/segment_writer.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <limits>

#include "common/thread_name.h"

namespace portcullis::audit {
namespace {

constexpr const char* kNextFileName = "next.tmp";
constexpr std::size_t kZeroChunk = 1 << 20;

Error io_error(std::string_view what, const std::filesystem::path& path, int error) {
  return make_error(
      fmt::format("audit journal: cannot {} {}: {}", what, path.string(), std::strerror(error)));
}

Result<void> write_all(int fd, std::string_view bytes, std::uint64_t offset,
                       const std::filesystem::path& path) {
  std::size_t done = 0;
  while (done < bytes.size()) {
    const ssize_t n =
        ::pwrite(fd, bytes.data() + done, bytes.size() - done, static_cast<off_t>(offset + done));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return io_error("write", path, n < 0 ? errno : ENOSPC);
    done += static_cast<std::size_t>(n);
  }
  return {};
}

// A file of `size` zero bytes, written (not sparse) and synced: later writes into it change
// no block allocation, so their fdatasync carries the data alone.
Result<std::uint64_t> zero_fill(const std::filesystem::path& path, std::uint64_t size) {
  const int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) return io_error("create", path, errno);
  const std::string zeros(kZeroChunk, '\0');
  Result<void> written;
  for (std::uint64_t at = 0; at < size && written; at += kZeroChunk)
    written = write_all(
        fd, std::string_view(zeros).substr(0, std::min<std::uint64_t>(kZeroChunk, size - at)), at,
        path);
  if (written && ::fsync(fd) != 0) written = io_error("sync", path, errno);
  ::close(fd);
  if (!written) return written.error();
  return size;
}

std::uint64_t file_size(int fd) {
  struct stat st {};
  if (::fstat(fd, &st) != 0) return 0;
  return static_cast<std::uint64_t>(st.st_size);
}

}  // namespace

SegmentWriter::SegmentWriter(SegmentWriterOptions options) : options_(std::move(options)) {}

SegmentWriter::~SegmentWriter() {
  if (next_.valid()) next_.wait();
  for (int fd : {fd_, head_fd_, dir_fd_})
    if (fd >= 0) ::close(fd);
}

Result<std::unique_ptr<SegmentWriter>> SegmentWriter::open(const SegmentWriterOptions& options,
                                                           SegmentStart& start) {
  std::unique_ptr<SegmentWriter> writer(new SegmentWriter(options));
  const auto& dir = options.dir;
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec)
    return make_error(
        fmt::format("audit journal: cannot create {}: {}", dir.string(), ec.message()));
  writer->dir_fd_ = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (writer->dir_fd_ < 0) return io_error("open", dir, errno);

  auto end = read_segments(dir, std::numeric_limits<std::int64_t>::max(), {}, true);
  if (!end) return end.error();
  if (end->damage)
    return make_error(fmt::format(
        "audit journal: {} is damaged at offset {} ({}); nothing is written after a damaged "
        "journal: run `portcullis audit verify` and see docs/audit.md#when-the-journal-is-damaged",
        end->damage->segment.string(), end->damage->offset, end->damage->why));
  auto head = read_head(dir);
  if (!head) return head.error();
  if (*head) {
    const JournalHead& h = **head;
    if (h.seq > end->last_seq)
      return make_error(fmt::format(
          "audit journal: the segments in {} end at seq {}, but the journal had reached seq {} "
          "(its head file): records {} to {} are missing; nothing is written after a shorter "
          "history: see docs/audit.md#when-the-journal-is-damaged",
          dir.string(), end->last_seq, h.seq, end->last_seq + 1, h.seq));
    if (h.seq == end->last_seq && h.seq > 0 && h.hash != end->last_hash)
      return make_error(fmt::format(
          "audit journal: record {} in {} is not the record the journal wrote as its last (the "
          "head file holds another hash): the end of the journal was rewritten; see "
          "docs/audit.md#when-the-journal-is-damaged",
          h.seq, dir.string()));
  }
  if (end->torn) {
    // Kept, not dropped: the bytes go beside the segment for whoever investigates, then are
    // zeroed so that the next records follow the last whole one.
    const TornTail& torn = *end->torn;
    auto data = read_whole_file(torn.segment);
    if (!data) return data.error();
    const auto copy =
        std::filesystem::path(torn.segment.string() + fmt::format(".torn-{}", torn.offset));
    {
      const int fd = ::open(copy.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
      if (fd < 0) return io_error("create", copy, errno);
      auto written =
          write_all(fd, std::string_view(*data).substr(torn.offset, torn.bytes), 0, copy);
      if (written && ::fsync(fd) != 0) written = io_error("sync", copy, errno);
      ::close(fd);
      if (!written) return written.error();
    }
    const int fd = ::open(torn.segment.c_str(), O_RDWR | O_CLOEXEC);
    if (fd < 0) return io_error("open", torn.segment, errno);
    auto zeroed = write_all(fd, std::string(torn.bytes, '\0'), torn.offset, torn.segment);
    if (zeroed && ::fdatasync(fd) != 0) zeroed = io_error("sync", torn.segment, errno);
    ::close(fd);
    if (!zeroed) return zeroed.error();
    if (::fsync(writer->dir_fd_) != 0) return io_error("sync", dir, errno);
    start.torn = torn;
    start.torn_copy = copy;
  }
  start.last_seq = end->last_seq;
  start.last_hash = end->last_hash;
  start.last_checkpoint_seq = end->last_checkpoint_seq;
  if (auto r = writer->open_last(*end); !r) return r.error();
  const auto head_path = dir / kHeadFileName;
  writer->head_fd_ = ::open(head_path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (writer->head_fd_ < 0) return io_error("open", head_path, errno);
  writer->prepare_next();
  return writer;
}

Result<void> SegmentWriter::open_last(const SegmentReadEnd& end) {
  if (!end.last_segment) return {};
  const auto& path = end.last_segment->path;
  fd_ = ::open(path.c_str(), O_RDWR | O_CLOEXEC);
  if (fd_ < 0) return io_error("open", path, errno);
  number_ = end.last_segment->number;
  offset_ = end.end_offset;  // 0: a segment without a header yet
  capacity_ = file_size(fd_);
  return {};
}

void SegmentWriter::prepare_next() {
  if (next_.valid()) return;
  next_ = std::async(std::launch::async,
                     [path = options_.dir / kNextFileName, size = options_.segment_size] {
                       name_this_thread("segment prep");
                       return zero_fill(path, size);
                     });
}

Result<void> SegmentWriter::start_segment(std::size_t needed, std::int64_t first_seq) {
  (void)first_seq;
  const std::uint64_t size =
      std::max<std::uint64_t>(options_.segment_size, segment::kHeaderSize + needed);
  Result<std::uint64_t> prepared = std::uint64_t{0};
  if (next_.valid()) prepared = next_.get();
  const auto next_path = options_.dir / kNextFileName;
  if (!prepared || *prepared < size) {
    prepared = zero_fill(next_path, size);
    if (!prepared) return prepared.error();
  }
  const std::uint64_t number = number_ + 1;
  const auto path = options_.dir / segment_file_name(number);
  // The name is made durable before anything is written under it: a crash can leave an
  // empty segment, never records under a name the folder forgot.
  if (::rename(next_path.c_str(), path.c_str()) != 0) return io_error("rename", next_path, errno);
  if (::fsync(dir_fd_) != 0) return io_error("sync", options_.dir, errno);
  const int fd = ::open(path.c_str(), O_RDWR | O_CLOEXEC);
  if (fd < 0) return io_error("open", path, errno);
  if (fd_ >= 0) ::close(fd_);
  fd_ = fd;
  number_ = number;
  offset_ = 0;
  capacity_ = *prepared;
  dirty_end_ = 0;
  abandon_ = false;
  prepare_next();
  return {};
}

Result<void> SegmentWriter::append(std::string_view frames, std::int64_t first_seq) {
  const bool fits =
      fd_ >= 0 && !abandon_ &&
      offset_ + (offset_ == 0 ? segment::kHeaderSize : 0) + frames.size() <= capacity_;
  if (!fits)
    if (auto r = start_segment(frames.size(), first_seq); !r) return r;
  scratch_.clear();
  if (offset_ == 0) segment::append_header({number_, first_seq}, scratch_);
  scratch_.append(frames);
  const std::uint64_t written_end = offset_ + scratch_.size();
  if (dirty_end_ > written_end) scratch_.append(dirty_end_ - written_end, '\0');
  const auto path = options_.dir / segment_file_name(number_);
  if (auto r = write_all(fd_, scratch_, offset_, path); !r) {
    dirty_end_ = std::max(dirty_end_, offset_ + scratch_.size());
    return r;
  }
  if (::fdatasync(fd_) != 0) {
    const int error = errno;
    // What reached the disk is unknown: zero it as well as can be, and write the group
    // again in a new segment.
    (void)write_all(fd_, std::string(scratch_.size(), '\0'), offset_, path);
    abandon_ = true;
    return io_error("sync", path, error);
  }
  offset_ = written_end;
  dirty_end_ = 0;
  return {};
}

void SegmentWriter::write_head(const JournalHead& head) {
  const std::string text = encode_head(head);
  (void)write_all(head_fd_, text, 0, options_.dir / kHeadFileName);
}

Result<void> SegmentWriter::probe() {
  if (fd_ >= 0 && !abandon_ && offset_ + segment::kFramePrefix <= capacity_) {
    const auto path = options_.dir / segment_file_name(number_);
    const std::uint64_t end = std::max<std::uint64_t>(dirty_end_, offset_ + segment::kFramePrefix);
    if (auto r = write_all(fd_, std::string(end - offset_, '\0'), offset_, path); !r) return r;
    if (::fdatasync(fd_) != 0) return io_error("sync", path, errno);
    dirty_end_ = 0;
    return {};
  }
  // No segment to write into: making the next one is the test.
  if (next_.valid()) {
    auto prepared = next_.get();
    if (prepared) {
      next_ = std::async(std::launch::deferred,
                         [size = *prepared] { return Result<std::uint64_t>(size); });
      return {};
    }
  }
  auto prepared = zero_fill(options_.dir / kNextFileName, options_.segment_size);
  if (!prepared) return prepared.error();
  next_ =
      std::async(std::launch::deferred, [size = *prepared] { return Result<std::uint64_t>(size); });
  return {};
}

}  // namespace portcullis::audit
