// Segment header and frame codec.
#include "audit/segment_format.h"

#include <algorithm>
#include <cstring>

namespace portcullis::audit::segment {
namespace {

constexpr std::uint32_t kAbsent = 0xffffffffu;
constexpr std::size_t kHashLength = 64;

void put_u32(std::string& out, std::uint32_t value) {
  char bytes[4];
  for (int i = 0; i < 4; ++i) bytes[i] = static_cast<char>((value >> (8 * i)) & 0xff);
  out.append(bytes, 4);
}

void put_u64(std::string& out, std::uint64_t value) {
  char bytes[8];
  for (int i = 0; i < 8; ++i) bytes[i] = static_cast<char>((value >> (8 * i)) & 0xff);
  out.append(bytes, 8);
}

std::uint64_t get_le(std::string_view bytes, std::size_t width) {
  std::uint64_t value = 0;
  for (std::size_t i = 0; i < width; ++i)
    value |= static_cast<std::uint64_t>(static_cast<unsigned char>(bytes[i])) << (8 * i);
  return value;
}

void put_text(std::string& out, std::string_view text) {
  put_u32(out, static_cast<std::uint32_t>(text.size()));
  out.append(text);
}

void put_optional(std::string& out, const std::optional<std::string>& text) {
  if (!text) {
    put_u32(out, kAbsent);
    return;
  }
  put_text(out, *text);
}

// Reads from a payload front to back; any read past its end marks it failed.
class PayloadReader {
 public:
  explicit PayloadReader(std::string_view payload) : rest_(payload) {}

  bool failed() const { return failed_; }
  bool finished() const { return !failed_ && rest_.empty(); }

  std::uint64_t integer(std::size_t width) {
    if (failed_ || rest_.size() < width) {
      failed_ = true;
      return 0;
    }
    const auto value = get_le(rest_, width);
    rest_.remove_prefix(width);
    return value;
  }

  std::optional<std::string> optional_text() {
    const auto length = static_cast<std::uint32_t>(integer(4));
    if (failed_ || length == kAbsent) return std::nullopt;
    return bytes(length);
  }

  std::string text() {
    const auto length = static_cast<std::uint32_t>(integer(4));
    if (length == kAbsent) failed_ = true;
    return failed_ ? std::string() : bytes(length);
  }

  std::string bytes(std::size_t length) {
    if (failed_ || rest_.size() < length) {
      failed_ = true;
      return {};
    }
    std::string out(rest_.substr(0, length));
    rest_.remove_prefix(length);
    return out;
  }

 private:
  std::string_view rest_;
  bool failed_ = false;
};

bool is_hash(std::string_view text) {
  return text.size() == kHashLength && std::all_of(text.begin(), text.end(), [](char c) {
           return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
         });
}

// Reserves the frame's length prefix and type; finish_frame fills in the length.
std::size_t start_frame(std::string& out, FrameType type) {
  const std::size_t start = out.size();
  put_u32(out, 0);
  out.push_back(static_cast<char>(type));
  return start;
}

void finish_frame(std::string& out, std::size_t start) {
  const auto length = static_cast<std::uint32_t>(out.size() - start - kFramePrefix);
  for (int i = 0; i < 4; ++i) out[start + i] = static_cast<char>((length >> (8 * i)) & 0xff);
}

// One past the last appended field (kOriginalFieldCount on) the record holds: the frame
// carries the appended fields up to there, after the kept result rows, and none when the
// record has none, so that such a frame is byte for byte what it was before they existed.
std::size_t appended_fields_end(const store::JournalRecord& record) {
  std::size_t end = store::kOriginalFieldCount;
  for (std::size_t i = store::kOriginalFieldCount; i < store::kFieldCount; ++i)
    if (record.fields[i]) end = i + 1;
  return end;
}

}  // namespace

void append_header(const Header& header, std::string& out) {
  out.append(kMagic);
  put_u64(out, header.number);
  put_u64(out, static_cast<std::uint64_t>(header.first_seq));
  put_u64(out, 0);
}

std::optional<Header> decode_header(std::string_view bytes) {
  if (bytes.size() < kHeaderSize || bytes.substr(0, kMagic.size()) != kMagic) return std::nullopt;
  Header header;
  header.number = get_le(bytes.substr(8), 8);
  header.first_seq = static_cast<std::int64_t>(get_le(bytes.substr(16), 8));
  if (header.number == 0 || header.first_seq < 1) return std::nullopt;
  return header;
}

void append_record_frame(const store::JournalEntry& entry, std::string& out) {
  const std::size_t start = start_frame(out, FrameType::record);
  const auto& fields = entry.record.fields;
  for (std::size_t i = 0; i < store::kOriginalFieldCount; ++i) put_optional(out, fields[i]);
  out.append(entry.record.prev_hash);
  out.append(entry.record.hash);
  put_optional(out, entry.results);
  for (std::size_t i = store::kOriginalFieldCount; i < appended_fields_end(entry.record); ++i)
    put_optional(out, fields[i]);
  finish_frame(out, start);
}

std::uint64_t record_frame_size(const store::JournalEntry& entry) {
  std::uint64_t size = kFramePrefix + 1 + 2 * kHashLength + 4;
  const auto& fields = entry.record.fields;
  const std::size_t end = appended_fields_end(entry.record);
  for (std::size_t i = 0; i < end; ++i) size += 4 + (fields[i] ? fields[i]->size() : 0);
  if (entry.results) size += entry.results->size();
  return size;
}

void append_checkpoint_frame(const store::JournalCheckpoint& checkpoint, std::string& out) {
  const std::size_t start = start_frame(out, FrameType::checkpoint);
  put_u64(out, static_cast<std::uint64_t>(checkpoint.seq));
  put_text(out, checkpoint.hash);
  put_text(out, checkpoint.time);
  put_text(out, checkpoint.instance);
  put_text(out, checkpoint.key_id);
  put_text(out, checkpoint.signature);
  finish_frame(out, start);
}

FrameRead next_frame(std::string_view data, std::size_t& offset, Frame& frame) {
  if (offset >= data.size()) return FrameRead::end;
  if (data.size() - offset < kFramePrefix)
    return all_zero(data.substr(offset)) ? FrameRead::end : FrameRead::torn;
  const auto length = static_cast<std::uint32_t>(get_le(data.substr(offset), 4));
  if (length == 0) return FrameRead::end;
  if (length > data.size() - offset - kFramePrefix) return FrameRead::torn;
  const auto type = static_cast<unsigned char>(data[offset + kFramePrefix]);
  if (type != static_cast<unsigned char>(FrameType::record) &&
      type != static_cast<unsigned char>(FrameType::checkpoint))
    return FrameRead::torn;
  frame.type = static_cast<FrameType>(type);
  frame.payload = data.substr(offset + kFramePrefix + 1, length - 1);
  offset += kFramePrefix + length;
  return FrameRead::frame;
}

Result<store::JournalEntry> decode_record(std::string_view payload) {
  PayloadReader in(payload);
  store::JournalEntry entry;
  auto& fields = entry.record.fields;
  for (std::size_t i = 0; i < store::kOriginalFieldCount; ++i) fields[i] = in.optional_text();
  entry.record.prev_hash = in.bytes(kHashLength);
  entry.record.hash = in.bytes(kHashLength);
  entry.results = in.optional_text();
  // The appended fields, as far as the frame holds them (none in a frame written before they
  // existed). The writer stops at the last one present: a frame ending in an absent one is not
  // one it wrote (and would not encode back to its bytes).
  std::size_t appended_end = store::kOriginalFieldCount;
  for (; appended_end < store::kFieldCount && !in.finished(); ++appended_end)
    fields[appended_end] = in.optional_text();
  if (appended_end > store::kOriginalFieldCount && !fields[appended_end - 1])
    return make_error("not a journal record");
  if (!in.finished() || !is_hash(entry.record.prev_hash) || !is_hash(entry.record.hash))
    return make_error("not a journal record");
  const auto& seq = entry.record[store::Field::seq];
  if (!seq || seq->empty() || seq->size() > 18 ||
      !std::all_of(seq->begin(), seq->end(), [](char c) { return c >= '0' && c <= '9'; }))
    return make_error("a journal record without a valid seq");
  return entry;
}

Result<store::JournalCheckpoint> decode_checkpoint(std::string_view payload) {
  PayloadReader in(payload);
  store::JournalCheckpoint checkpoint;
  checkpoint.seq = static_cast<std::int64_t>(in.integer(8));
  checkpoint.hash = in.text();
  checkpoint.time = in.text();
  checkpoint.instance = in.text();
  checkpoint.key_id = in.text();
  checkpoint.signature = in.text();
  if (!in.finished() || checkpoint.seq < 1 || !is_hash(checkpoint.hash))
    return make_error("not a journal checkpoint");
  return checkpoint;
}

bool all_zero(std::string_view bytes) {
  return std::all_of(bytes.begin(), bytes.end(), [](char c) { return c == 0; });
}

}  // namespace portcullis::audit::segment
