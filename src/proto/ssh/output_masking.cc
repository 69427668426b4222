// Line-wise masking of a command's output.
#include "proto/ssh/output_masking.h"

namespace portcullis::proto::ssh {

OutputMasking::OutputMasking(const masking::Masker* masker, masking::Scratch* scratch,
                             masking::MaskCounts* counts)
    : masker_(masker && masker->active() ? masker : nullptr), scratch_(scratch), counts_(counts) {
  if (masker_) plan_ = masker_->plan_text();
}

void OutputMasking::mask_into(std::string_view text, std::string& out) {
  if (text.empty()) return;
  if (!masker_->mask_value(text, plan_, result_, *scratch_, *counts_)) {
    out.append(text);
    return;
  }
  if (result_.kind == masking::MaskResult::Kind::replaced) {
    out.append(result_.bytes);
    return;
  }
  // The `null` strategy withholds a whole value: in a stream, the lines held are withheld, and
  // the reader sees that something was.
  out.append(kWithheld);
  if (text.back() == '\n') out.push_back('\n');
}

void OutputMasking::feed(std::string_view bytes, std::string& out) {
  if (!masker_) {
    out.append(bytes);
    return;
  }
  const auto last_newline = bytes.rfind('\n');
  if (last_newline == std::string_view::npos) {
    held_.append(bytes);
    if (held_.size() >= kMaxHeldLine) {
      mask_into(held_, out);
      held_.clear();
    }
    return;
  }
  const std::string_view complete = bytes.substr(0, last_newline + 1);
  const std::string_view rest = bytes.substr(last_newline + 1);
  if (held_.empty()) {
    mask_into(complete, out);
  } else {
    held_.append(complete);
    mask_into(held_, out);
    held_.clear();
  }
  held_.append(rest);
  if (held_.size() >= kMaxHeldLine) {
    mask_into(held_, out);
    held_.clear();
  }
}

void OutputMasking::finish(std::string& out) {
  if (masker_ && !held_.empty()) mask_into(held_, out);
  held_.clear();
}

}  // namespace portcullis::proto::ssh
