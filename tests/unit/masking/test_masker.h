// Building maskers for tests from a few settings.
#pragma once

#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "masking/masker.h"

namespace portcullis::masking::testing {

inline const std::vector<std::string> kAllDetectors(kBuiltinDetectorNames.begin(),
                                                    kBuiltinDetectorNames.end());

inline std::shared_ptr<const Masker> make_masker(config::MaskingProfileConfig profile,
                                                 const std::string& key = "test-key") {
  if (profile.name.empty()) profile.name = "test";
  auto m = Masker::build(profile, Secret(key));
  if (!m) ADD_FAILURE() << m.error().message;
  return m ? *m : nullptr;
}

inline std::shared_ptr<const Masker> all_detectors(std::string strategy = "redact") {
  config::MaskingProfileConfig p;
  p.detectors = kAllDetectors;
  p.strategy = std::move(strategy);
  return make_masker(p);
}

// The value after masking with a scan plan; the input itself when nothing changed.
inline std::string masked(const Masker& m, std::string_view in) {
  Scratch scratch;
  MaskCounts counts;
  MaskResult r;
  if (!m.mask_value(in, m.plan_text(), r, scratch, counts)) return std::string(in);
  return r.kind == MaskResult::Kind::null ? "<NULL>" : r.bytes;
}

}  // namespace portcullis::masking::testing
