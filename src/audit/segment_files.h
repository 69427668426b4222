// The journal's folder: segment files named by number (0000000001.seg, ...), the head file
// that remembers how far the journal reached, and reading the segments back in order. The
// writer (segment_writer.h), verify and the index read through here.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "audit/segment_format.h"
#include "common/result.h"
#include "store/journal_store.h"

namespace portcullis::audit {

struct SegmentFile {
  std::filesystem::path path;
  std::uint64_t number = 0;
};

// "0000000001.seg".
std::string segment_file_name(std::uint64_t number);
// The folder's segments in number order (other files are ignored). An error when the folder
// cannot be read; an empty list when it does not exist.
Result<std::vector<SegmentFile>> list_segments(const std::filesystem::path& dir);
Result<std::string> read_whole_file(const std::filesystem::path& path);

// Bytes at the end of the last segment that are not whole frames: a group write cut short
// by a crash (or damage there). What the journal reports, and keeps aside, when it starts.
struct TornTail {
  std::filesystem::path segment;
  std::uint64_t offset = 0;    // in the file: where the unreadable bytes start
  std::uint64_t bytes = 0;     // from there to the last non-zero byte
  std::int64_t after_seq = 0;  // the last whole record before them
};

// Frames that cannot be read anywhere but at the end of the last segment: not a crash.
struct SegmentDamage {
  std::filesystem::path segment;
  std::uint64_t offset = 0;
  std::int64_t after_seq = 0;
  std::string why;
};

// What reading the segments found beyond the records themselves.
struct SegmentReadEnd {
  std::int64_t last_seq = 0;  // of the last whole record read
  std::string last_hash;
  std::int64_t last_checkpoint_seq = 0;  // highest seq a checkpoint frame read pins
  std::optional<TornTail> torn;
  std::optional<SegmentDamage> damage;
  // The last segment and where its written part ends (for the writer).
  std::optional<SegmentFile> last_segment;
  std::uint64_t end_offset = 0;
};

struct SegmentVisitor {
  // Each returns false to stop reading.
  std::function<bool(const store::JournalEntry&)> on_record;
  std::function<bool(const store::JournalCheckpoint&)> on_checkpoint;
};

// Reads the segments of `dir` in order, records from `from_seq` on (segments that end before
// it are skipped by their headers; checkpoints in the segments read are all visited). With
// `only_last`, reads the last segment alone (how the writer finds its end at start).
Result<SegmentReadEnd> read_segments(const std::filesystem::path& dir, std::int64_t from_seq,
                                     const SegmentVisitor& visitor, bool only_last = false);

// The head file: the seq and hash of the last record the journal wrote, rewritten after every
// group commit (not synced: it guards against a journal cut back or damaged afterwards, not
// against power loss, which cannot undo a synced write).
struct JournalHead {
  std::int64_t seq = 0;
  std::string hash;
};
inline constexpr const char* kHeadFileName = "head";
std::string encode_head(const JournalHead& head);
std::optional<JournalHead> decode_head(std::string_view text);
// Null when there is no head file; an error when it cannot be read or is not a head file.
Result<std::optional<JournalHead>> read_head(const std::filesystem::path& dir);

}  // namespace portcullis::audit
