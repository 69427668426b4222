// The journal's segment files, byte for byte: a fixed header, then frames, then zeros to the
// end of the preallocated file. Pure functions, no I/O: the writer and every reader (the
// gateway at start, verify, the index) decode with these, and the fuzz target feeds them
// arbitrary bytes. The layout is documented in docs/audit.md.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "common/result.h"
#include "store/journal_store.h"

namespace portcullis::audit::segment {

// "PCJSEG01", the segment's number, the seq of its first record, 8 reserved zero bytes.
inline constexpr std::string_view kMagic = "PCJSEG01";
inline constexpr std::size_t kHeaderSize = 32;

struct Header {
  std::uint64_t number = 0;    // 1, 2, 3, ... as the file names say
  std::int64_t first_seq = 0;  // the seq of the first record written to it
};

void append_header(const Header& header, std::string& out);
// Null when `bytes` does not start with a valid header.
std::optional<Header> decode_header(std::string_view bytes);

// A frame: u32 length (little-endian) of what follows it, u8 type, then the payload. A
// length of 0 is where the written part of a segment ends (the preallocated zeros).
enum class FrameType : std::uint8_t { record = 1, checkpoint = 2 };
inline constexpr std::size_t kFramePrefix = 4;
// The largest frame the length field can describe. A reader never trusts a length beyond the
// bytes it holds (a damaged length reads as a torn frame, it allocates nothing); the writer
// keeps every record within this (record_frame_size).
inline constexpr std::uint64_t kMaxFrame = 0xffffffffu;

// Record payload: each of the kOriginalFieldCount fields as u32 length + bytes (0xffffffff:
// absent), prev_hash and hash (64 hex characters each), the kept result rows likewise, then
// the fields appended since likewise, up to the last one present (none when none is).
void append_record_frame(const store::JournalEntry& entry, std::string& out);
// The bytes append_record_frame would write for `entry`.
std::uint64_t record_frame_size(const store::JournalEntry& entry);
// Checkpoint payload: u64 seq, then hash, time, instance, key_id, signature as u32 length +
// bytes.
void append_checkpoint_frame(const store::JournalCheckpoint& checkpoint, std::string& out);

struct Frame {
  FrameType type = FrameType::record;
  std::string_view payload;
};

enum class FrameRead {
  frame,  // `frame` holds the next frame; `offset` moved past it
  end,    // a zero length: nothing more was written here
  torn,   // the bytes at `offset` are not a whole frame (cut short, or not a frame at all)
};

// Reads the frame at `offset` in `data` (a segment's bytes after its header).
FrameRead next_frame(std::string_view data, std::size_t& offset, Frame& frame);

Result<store::JournalEntry> decode_record(std::string_view payload);
Result<store::JournalCheckpoint> decode_checkpoint(std::string_view payload);

// True when every byte of `bytes` is zero.
bool all_zero(std::string_view bytes);

}  // namespace portcullis::audit::segment
