// OutputMasking: masks a text stream (an SSH command's stdout or stderr, a Kubernetes pod's
// log) with the grant's masking profile on its way to the client. Values are found line by line:
// what arrives is held until its line ends, then every complete line so far is masked in one pass,
// so a value split across two packets is still found. A line longer than kMaxHeldLine is masked as
// it stands (a value astride that cut can escape; such lines are not text a person reads). A PEM
// private key block, which spans lines, is held from its BEGIN line to its END line and masked
// whole; one longer than kMaxHeldLine is masked up to there and withheld to its END line. Pure: no
// I/O.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "masking/masker.h"

namespace portcullis::masking {

class OutputMasking {
 public:
  static constexpr std::size_t kMaxHeldLine = 64 * 1024;
  // What replaces output a `null` strategy withholds.
  static constexpr std::string_view kWithheld = "[withheld]";

  // `masker` null: output passes unchanged. The others must outlive this.
  OutputMasking(const Masker* masker, Scratch* scratch, MaskCounts* counts);

  // Appends to `out` what of `bytes` (after what was held) can be sent now, masked.
  void feed(std::string_view bytes, std::string& out);
  // The stream ended: the held rest, masked.
  void finish(std::string& out);
  // The stream paused: what is held is masked and sent as it stands (a prompt, which has no
  // newline), unless it is inside a private key. A value astride the pause can escape.
  void flush(std::string& out);
  std::size_t held() const { return held_.size(); }

 private:
  void mask_into(std::string_view text, std::string& out);
  // Inside a private key that was cut: `bytes` up to its END line are withheld; the rest.
  std::string_view withhold_private_key(std::string_view bytes, std::string& out);

  const Masker* masker_;
  Scratch* scratch_;
  MaskCounts* counts_;
  ColumnPlan plan_;
  MaskResult result_;
  std::string held_;
  bool in_private_key_ = false;
};

}  // namespace portcullis::masking
