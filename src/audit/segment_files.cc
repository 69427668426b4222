// Listing and reading segment files; the head file.
#include "audit/segment_files.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <system_error>

#include "audit/record.h"

namespace portcullis::audit {
namespace {

constexpr std::string_view kSegmentSuffix = ".seg";
constexpr std::string_view kHeadMagic = "portcullis-journal-head-v1";

std::optional<std::uint64_t> segment_number(const std::string& name) {
  if (name.size() != 10 + kSegmentSuffix.size() || !name.ends_with(kSegmentSuffix))
    return std::nullopt;
  std::uint64_t number = 0;
  const char* end = name.data() + 10;
  auto [ptr, ec] = std::from_chars(name.data(), end, number);
  if (ec != std::errc() || ptr != end || number == 0) return std::nullopt;
  return number;
}

// Where the non-zero bytes from `offset` on end (offset when there are none).
std::size_t last_non_zero(std::string_view data, std::size_t offset) {
  std::size_t end = data.size();
  while (end > offset && data[end - 1] == 0) --end;
  return end;
}

// The header of a segment; null when it has none.
Result<std::optional<segment::Header>> read_header(const std::filesystem::path& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return make_error(fmt::format("cannot open {}: {}", path.string(), std::strerror(errno)));
  char bytes[segment::kHeaderSize];
  const ssize_t n = ::pread(fd, bytes, sizeof bytes, 0);
  ::close(fd);
  if (n != static_cast<ssize_t>(sizeof bytes)) return std::optional<segment::Header>();
  return segment::decode_header(std::string_view(bytes, sizeof bytes));
}

}  // namespace

std::string segment_file_name(std::uint64_t number) {
  return fmt::format("{:010}{}", number, kSegmentSuffix);
}

Result<std::vector<SegmentFile>> list_segments(const std::filesystem::path& dir) {
  std::vector<SegmentFile> out;
  std::error_code ec;
  if (!std::filesystem::exists(dir, ec)) return out;
  for (std::filesystem::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    if (!it->is_regular_file()) continue;
    if (auto number = segment_number(it->path().filename().string()))
      out.push_back({it->path(), *number});
  }
  if (ec)
    return make_error(
        fmt::format("cannot list the journal folder {}: {}", dir.string(), ec.message()));
  std::sort(out.begin(), out.end(),
            [](const SegmentFile& a, const SegmentFile& b) { return a.number < b.number; });
  return out;
}

Result<std::string> read_whole_file(const std::filesystem::path& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return make_error(fmt::format("cannot open {}: {}", path.string(), std::strerror(errno)));
  std::string data;
  const off_t size = ::lseek(fd, 0, SEEK_END);
  if (size > 0) data.resize(static_cast<std::size_t>(size));
  std::size_t done = 0;
  while (done < data.size()) {
    const ssize_t n = ::pread(fd, data.data() + done, data.size() - done, static_cast<off_t>(done));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      const int error = n < 0 ? errno : EIO;
      ::close(fd);
      return make_error(fmt::format("cannot read {}: {}", path.string(), std::strerror(error)));
    }
    done += static_cast<std::size_t>(n);
  }
  ::close(fd);
  return data;
}

Result<SegmentReadEnd> read_segments(const std::filesystem::path& dir, std::int64_t from_seq,
                                     const SegmentVisitor& visitor, bool only_last) {
  auto segments = list_segments(dir);
  if (!segments) return segments.error();
  SegmentReadEnd end;
  if (segments->empty()) return end;
  std::size_t first = only_last ? segments->size() - 1 : 0;
  // A last segment renamed into place by a writer that died before writing to it has no
  // header: the journal ends in the one before.
  while (only_last && first > 0) {
    auto header = read_header((*segments)[first].path);
    if (!header) return header.error();
    if (*header) break;
    --first;
  }
  if (!only_last && from_seq > 1) {
    // Segments that end before from_seq are skipped by the next one's header.
    while (first + 1 < segments->size()) {
      auto next = read_header((*segments)[first + 1].path);
      if (!next) return next.error();
      if (!*next || (*next)->first_seq > from_seq) break;
      end.last_seq = (*next)->first_seq - 1;
      ++first;
    }
  }
  RecordHasher hasher;
  for (std::size_t i = first; i < segments->size(); ++i) {
    const SegmentFile& file = (*segments)[i];
    const bool last = i + 1 == segments->size();
    auto data = read_whole_file(file.path);
    if (!data) return data.error();
    end.last_segment = file;
    end.end_offset = 0;
    const auto header = segment::decode_header(*data);
    if (!header) {
      // A segment renamed into place by a writer that died before its first write is all
      // zeros: empty, not damaged.
      if (last && segment::all_zero(*data)) break;
      // The first write into a new last segment cut short (its first page lost, a later one
      // written): a torn tail like any other.
      if (last) {
        end.end_offset = 0;
        end.torn = TornTail{file.path, 0, last_non_zero(*data, 0), end.last_seq};
        return end;
      }
      end.damage =
          SegmentDamage{file.path, 0, end.last_seq, "it does not start with a segment header"};
      return end;
    }
    if (header->number != file.number) {
      end.damage = SegmentDamage{file.path, 0, end.last_seq,
                                 fmt::format("its header names segment {}", header->number)};
      return end;
    }
    std::string_view bytes(*data);
    std::size_t offset = segment::kHeaderSize;
    segment::Frame frame;
    bool stop = false;
    std::optional<std::size_t> bad;
    for (;;) {
      const std::size_t at = offset;
      const auto read = segment::next_frame(bytes, offset, frame);
      if (read == segment::FrameRead::end) {
        if (last_non_zero(bytes, at) > at) bad = at;  // written bytes past the end marker
        end.end_offset = at;
        break;
      }
      if (read == segment::FrameRead::torn) {
        bad = at;
        break;
      }
      if (frame.type == segment::FrameType::record) {
        auto entry = segment::decode_record(frame.payload);
        // The writer checks hashes at the end of the journal, where a crash can leave a frame
        // of the right length with some of its pages never written.
        if (!entry || (only_last && hasher.hash(entry->record) != entry->record.hash)) {
          bad = at;
          break;
        }
        end.last_seq = seq_of(entry->record);
        end.last_hash = entry->record.hash;
        if (end.last_seq >= from_seq && visitor.on_record && !visitor.on_record(*entry)) {
          stop = true;
          break;
        }
      } else {
        auto checkpoint = segment::decode_checkpoint(frame.payload);
        if (!checkpoint) {
          bad = at;
          break;
        }
        end.last_checkpoint_seq = std::max(end.last_checkpoint_seq, checkpoint->seq);
        if (visitor.on_checkpoint && !visitor.on_checkpoint(*checkpoint)) {
          stop = true;
          break;
        }
      }
    }
    if (stop) return end;
    if (bad) {
      end.end_offset = *bad;
      if (last) {
        end.torn = TornTail{file.path, *bad, last_non_zero(bytes, *bad) - *bad, end.last_seq};
      } else {
        end.damage =
            SegmentDamage{file.path, *bad, end.last_seq, "its bytes there are not a whole record"};
      }
      return end;
    }
  }
  return end;
}

std::string encode_head(const JournalHead& head) {
  return fmt::format("{} seq={:020} hash={:<64}\n", kHeadMagic, head.seq, head.hash);
}

std::optional<JournalHead> decode_head(std::string_view text) {
  const std::string prefix = std::string(kHeadMagic) + " seq=";
  if (!text.starts_with(prefix)) return std::nullopt;
  text.remove_prefix(prefix.size());
  JournalHead head;
  auto [ptr, ec] =
      std::from_chars(text.data(), text.data() + std::min<std::size_t>(text.size(), 20), head.seq);
  if (ec != std::errc() || ptr != text.data() + 20) return std::nullopt;
  text.remove_prefix(20);
  if (!text.starts_with(" hash=") || text.size() < 6 + 64) return std::nullopt;
  head.hash = std::string(text.substr(6, 64));
  if (head.seq < 0) return std::nullopt;
  return head;
}

Result<std::optional<JournalHead>> read_head(const std::filesystem::path& dir) {
  const auto path = dir / kHeadFileName;
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) return std::optional<JournalHead>();
  auto text = read_whole_file(path);
  if (!text) return text.error();
  // Created at open, written after the first commit: empty in between.
  if (text->empty()) return std::optional<JournalHead>();
  auto head = decode_head(*text);
  if (!head)
    return make_error(
        fmt::format("{} is not a journal head file (was it changed?)", path.string()));
  return std::optional<JournalHead>(std::move(*head));
}

}  // namespace portcullis::audit
