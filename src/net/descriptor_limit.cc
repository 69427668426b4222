// Reading and raising RLIMIT_NOFILE.
#include "net/descriptor_limit.h"

#include <sys/resource.h>

#include <cerrno>
#include <cstring>
#include <limits>

namespace portcullis::net {
namespace {

std::size_t to_size(rlim_t value) {
  if (value == RLIM_INFINITY) return std::numeric_limits<std::size_t>::max();
  return static_cast<std::size_t>(value);
}

}  // namespace

DescriptorLimit raise_descriptor_limit() {
  DescriptorLimit out;
  rlimit limit{};
  if (getrlimit(RLIMIT_NOFILE, &limit) != 0) {
    out.error = std::strerror(errno);
    return out;
  }
  if (limit.rlim_cur < limit.rlim_max) {
    rlimit raised = limit;
    raised.rlim_cur = limit.rlim_max;
    if (setrlimit(RLIMIT_NOFILE, &raised) == 0) {
      limit = raised;
      out.raised = true;
    } else {
      out.error = std::strerror(errno);
    }
  }
  out.soft = to_size(limit.rlim_cur);
  out.hard = to_size(limit.rlim_max);
  return out;
}

std::size_t sessions_within(std::size_t descriptors) {
  if (descriptors <= kDescriptorReserve) return 0;
  return (descriptors - kDescriptorReserve) / kDescriptorsPerSession;
}

}  // namespace portcullis::net
