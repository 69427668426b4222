// libFuzzer target: the journal's segment codec (audit/segment_format.h) on arbitrary bytes,
// as the gateway reads a segment at start and verify reads every one. Invariants: reading
// frames always moves forward and stays inside the input; a frame that decodes as a record or
// a checkpoint encodes back to exactly its bytes; a header that decodes encodes back to the
// input's first 32 bytes.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "audit/segment_format.h"

using namespace portcullis::audit;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view bytes(reinterpret_cast<const char*>(data), size);
  if (auto header = segment::decode_header(bytes)) {
    std::string again;
    segment::append_header(*header, again);
    if (again.substr(0, 24) != bytes.substr(0, 24)) std::abort();
  }
  std::size_t offset = 0;
  segment::Frame frame;
  for (;;) {
    const std::size_t at = offset;
    const auto read = segment::next_frame(bytes, offset, frame);
    if (read != segment::FrameRead::frame) {
      if (offset != at) std::abort();
      break;
    }
    if (offset <= at || offset > bytes.size()) std::abort();
    const std::string_view whole = bytes.substr(at, offset - at);
    std::string again;
    if (frame.type == segment::FrameType::record) {
      if (auto entry = segment::decode_record(frame.payload)) {
        segment::append_record_frame(*entry, again);
        if (again != whole) std::abort();
      }
    } else if (auto checkpoint = segment::decode_checkpoint(frame.payload)) {
      segment::append_checkpoint_frame(*checkpoint, again);
      if (again != whole) std::abort();
    }
  }
  return 0;
}
