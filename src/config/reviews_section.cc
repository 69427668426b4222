// `reviews`: how long approvals and pending reviews last.
#include <fmt/format.h>

#include "config/sections.h"

namespace portcullis::config {

void read_reviews(Reader& r, const Value& v, ReviewsConfig& reviews) {
  Fields f = r.fields(v, {"grant_lifetime", "pending_lifetime"});
  if (const Value* x = f.find("grant_lifetime")) {
    if (auto d = r.read_duration(*x, false)) reviews.grant_lifetime = *d;
  }
  if (const Value* x = f.find("pending_lifetime")) {
    if (auto d = r.read_duration(*x, false)) reviews.pending_lifetime = *d;
  }
}

}  // namespace portcullis::config
