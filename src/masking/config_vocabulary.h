// The masking vocabulary the configuration loader checks names and regexes against, so that
// check-config reports an unknown strategy or detector, or a bad regex, at its line.
#pragma once

#include "config/loader.h"

namespace portcullis::masking {

// Strategy names, built-in detector names, and the Hyperscan compile check of custom regexes.
config::MaskingVocabulary config_vocabulary();

}  // namespace portcullis::masking
