// Appends the journal's frames to its segment files: one write and one fdatasync per group,
// into files zero-filled ahead of time (on a thread of their own) so that a sync moves the
// bytes appended and no file-size metadata. At open it finds where the last segment ends,
// refuses to write after a history shorter than the head file says it was, and sets a torn
// tail aside (its bytes copied beside the segment, then zeroed) for the journal to record.
#pragma once

#include <cstdint>
#include <filesystem>
#include <future>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "audit/segment_files.h"
#include "common/result.h"

namespace portcullis::audit {

struct SegmentWriterOptions {
  std::filesystem::path dir;
  std::uint64_t segment_size = 64ull << 20;
};

// What the writer found at open.
struct SegmentStart {
  std::int64_t last_seq = 0;
  std::string last_hash;                 // empty when the journal is empty
  std::int64_t last_checkpoint_seq = 0;  // of the last segment's checkpoints
  std::optional<TornTail> torn;          // set aside: its bytes are in torn_copy
  std::filesystem::path torn_copy;
};

class SegmentWriter {
 public:
  static Result<std::unique_ptr<SegmentWriter>> open(const SegmentWriterOptions& options,
                                                     SegmentStart& start);
  ~SegmentWriter();
  SegmentWriter(const SegmentWriter&) = delete;
  SegmentWriter& operator=(const SegmentWriter&) = delete;

  // Writes whole frames durably (one pwrite, one fdatasync); a new segment is started, with
  // `first_seq` in its header, when they do not fit in this one. Nothing counts as written
  // when this fails: the next call writes at the same place, or in a new segment when the
  // sync failed (a failed fdatasync leaves the file's state unknown).
  Result<void> append(std::string_view frames, std::int64_t first_seq);
  // Records how far the journal reached, after a commit. Not synced; errors are ignored (the
  // head is a guard, the segments are the journal).
  void write_head(const JournalHead& head);
  // A small durable write where the next append would go: the journal's health probe.
  Result<void> probe();

  const std::filesystem::path& dir() const { return options_.dir; }

 private:
  explicit SegmentWriter(SegmentWriterOptions options);
  Result<void> open_last(const SegmentReadEnd& end);
  Result<void> start_segment(std::size_t needed, std::int64_t first_seq);
  void prepare_next();

  SegmentWriterOptions options_;
  int dir_fd_ = -1;
  int head_fd_ = -1;
  int fd_ = -1;  // the segment being written, -1 before the first
  std::uint64_t number_ = 0;
  std::uint64_t offset_ = 0;    // where the next frame goes
  std::uint64_t capacity_ = 0;  // the segment file's size
  // Bytes past offset_ a failed write may have left: zeroed by the next write.
  std::uint64_t dirty_end_ = 0;
  bool abandon_ = false;  // a sync failed: the next append starts a new segment
  std::string scratch_;   // header + frames + zeros of one write
  // The next segment, zero-filled as "next.tmp" ahead of time.
  std::future<Result<std::uint64_t>> next_;  // its size
};

}  // namespace portcullis::audit
