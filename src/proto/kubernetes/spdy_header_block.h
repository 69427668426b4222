// SPDY/3 header blocks: the name/value pairs of a SYN_STREAM, SYN_REPLY or HEADERS frame,
// compressed with zlib against the dictionary of the SPDY draft 3 specification, one zlib
// stream per direction for the whole connection (each block ends in a sync flush). A relay that
// reads the blocks of one direction must read every one of them, in order, to stay in step.
// Pure: no I/O.
#pragma once

#include <zlib.h>

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/result.h"

namespace portcullis::proto::kubernetes {

// The 1423-byte dictionary both ends' zlib streams start from (SPDY draft 3, section 2.6.10.1).
std::string_view spdy_header_dictionary();

// Names as sent (SPDY/3 has them lowercase); a value holding several is split on NUL by the
// reader of a block, which this one leaves to its caller.
using SpdyHeaders = std::vector<std::pair<std::string, std::string>>;

// The largest header block inflated, and the most pairs in one: exec's SYN_STREAMs carry two or
// three short headers.
inline constexpr std::size_t kMaxSpdyHeaderBlock = 64 * 1024;
inline constexpr std::size_t kMaxSpdyHeaderPairs = 256;

class SpdyHeaderReader {
 public:
  SpdyHeaderReader();
  ~SpdyHeaderReader();
  SpdyHeaderReader(const SpdyHeaderReader&) = delete;
  SpdyHeaderReader& operator=(const SpdyHeaderReader&) = delete;

  // The next block of this direction, inflated and read. Refused, for good (the zlib stream
  // can no longer be followed): data zlib cannot inflate (another dictionary among it), a block
  // that inflates to more than kMaxSpdyHeaderBlock or does not end where its input does, pairs
  // that do not fill it exactly, an empty name, more than kMaxSpdyHeaderPairs pairs.
  Result<SpdyHeaders> read(std::string_view compressed);

 private:
  Error fail(std::string message);

  z_stream zlib_{};
  bool ready_ = false;
  std::string inflated_;
  std::optional<Error> failed_;
};

// The writing side, as a peer compresses: blocks written in order share one zlib stream. The
// gateway reads blocks only; this serves its tests and the stand-in peers they drive.
class SpdyHeaderWriter {
 public:
  SpdyHeaderWriter();
  ~SpdyHeaderWriter();
  SpdyHeaderWriter(const SpdyHeaderWriter&) = delete;
  SpdyHeaderWriter& operator=(const SpdyHeaderWriter&) = delete;

  std::string write(const SpdyHeaders& headers);
  // A block as given (the count and pairs already laid out), compressed.
  std::string compress(std::string_view block);

 private:
  z_stream zlib_{};
};

}  // namespace portcullis::proto::kubernetes
