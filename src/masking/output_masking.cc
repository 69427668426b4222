// Line-wise masking of a command's output.
#include "masking/output_masking.h"

#include <string.h>

namespace portcullis::masking {

OutputMasking::OutputMasking(const Masker* masker, Scratch* scratch, MaskCounts* counts)
    : masker_(masker && masker->active() ? masker : nullptr), scratch_(scratch), counts_(counts) {
  if (masker_) plan_ = masker_->plan_text();
}

void OutputMasking::mask_into(std::string_view text, std::string& out) {
  if (text.empty()) return;
  if (!masker_->mask_value(text, plan_, result_, *scratch_, *counts_)) {
    out.append(text);
    return;
  }
  if (result_.kind == MaskResult::Kind::replaced) {
    out.append(result_.bytes);
    return;
  }
  // The `null` strategy withholds a whole value: in a stream, the lines held are withheld, and
  // the reader sees that something was.
  out.append(kWithheld);
  if (text.back() == '\n') out.push_back('\n');
}

namespace {

// Whether `text` opens a PEM private key block it does not close: its detector would mask from
// BEGIN to the end of the text, and the key's further lines, in the next packet, would pass.
bool opens_private_key(std::string_view text) {
  // The last BEGIN, found forwards with memmem: string_view::rfind compares at every position
  // from the end, and this runs on every packet of a command's output (most hold no BEGIN).
  constexpr std::string_view kBegin = "-----BEGIN ";
  std::size_t begin = std::string_view::npos;
  for (std::size_t from = 0; from < text.size();) {
    const void* found =
        ::memmem(text.data() + from, text.size() - from, kBegin.data(), kBegin.size());
    if (!found) break;
    begin = static_cast<std::size_t>(static_cast<const char*>(found) - text.data());
    from = begin + 1;
  }
  if (begin == std::string_view::npos) return false;
  const auto header_end = text.find('\n', begin);
  const auto header = text.substr(
      begin, header_end == std::string_view::npos ? std::string_view::npos : header_end - begin);
  return header.find("PRIVATE KEY") != std::string_view::npos &&
         text.find("-----END ", begin) == std::string_view::npos;
}

}  // namespace

std::string_view OutputMasking::withhold_private_key(std::string_view bytes, std::string& out) {
  const auto end_marker = bytes.find("-----END ");
  if (end_marker == std::string_view::npos) return {};  // all of it is the key's
  const auto line_end = bytes.find('\n', end_marker);
  const auto after = line_end == std::string_view::npos ? bytes.size() : line_end + 1;
  out.append(kWithheld);
  if (line_end != std::string_view::npos) out.push_back('\n');
  in_private_key_ = false;
  return bytes.substr(after);
}

void OutputMasking::feed(std::string_view bytes, std::string& out) {
  if (!masker_) {
    out.append(bytes);
    return;
  }
  if (in_private_key_) bytes = withhold_private_key(bytes, out);
  held_.append(bytes);
  const auto last_newline = held_.rfind('\n');
  std::size_t ready = last_newline == std::string::npos ? 0 : last_newline + 1;
  if (opens_private_key(held_)) {
    // Held whole until its END line, so that the key is masked as one value. Past the limit,
    // what is held is masked (the detector takes it all) and the rest of the key withheld.
    if (held_.size() < kMaxHeldLine) return;
    ready = held_.size();
    in_private_key_ = true;
  } else if (ready == 0 && held_.size() >= kMaxHeldLine) {
    ready = held_.size();
  }
  if (ready == 0) return;
  mask_into(std::string_view(held_).substr(0, ready), out);
  held_.erase(0, ready);
}

void OutputMasking::flush(std::string& out) {
  if (!masker_ || held_.empty() || in_private_key_ || opens_private_key(held_)) return;
  mask_into(held_, out);
  held_.clear();
}

void OutputMasking::finish(std::string& out) {
  if (masker_ && !held_.empty()) mask_into(held_, out);
  held_.clear();
}

}  // namespace portcullis::masking
