// config_vocabulary: masking's names and regex check, handed to the configuration loader.
#include "masking/config_vocabulary.h"

#include "masking/detector.h"
#include "masking/masker.h"
#include "masking/strategy.h"

namespace portcullis::masking {

config::MaskingVocabulary config_vocabulary() {
  return config::MaskingVocabulary{
      .strategies = {kStrategyNames.begin(), kStrategyNames.end()},
      .detectors = {kBuiltinDetectorNames.begin(), kBuiltinDetectorNames.end()},
      .check_regex = [](std::string_view regex) { return check_custom_regex(regex); },
  };
}

}  // namespace portcullis::masking
