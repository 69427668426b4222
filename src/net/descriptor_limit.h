// The process's open-file limit (RLIMIT_NOFILE), and how many sessions it leaves room for.
// Most systems start a service with a soft limit of 1,024 while allowing far more: left as
// is, a few hundred idle connections make accept() fail with EMFILE and logins stall.
#pragma once

#include <cstddef>
#include <string>

namespace portcullis::net {

// Descriptors a session holds: the client's socket and its backend connection.
constexpr std::size_t kDescriptorsPerSession = 2;
// Kept free for everything else: the audit journal and state store (SQLite files and their
// journals), the JSONL exporters, the API's connections (64 at most), webhooks, JWKS fetches,
// the event loops' own descriptors, and the side connections a session opens for catalog
// names and planner estimates.
constexpr std::size_t kDescriptorReserve = 256;

struct DescriptorLimit {
  std::size_t soft = 0;  // in force now
  std::size_t hard = 0;
  bool raised = false;  // the soft limit was raised to the hard one
  std::string error;    // why it could not be read or raised; empty when fine
};

// Raises the soft limit to the hard one and reports both.
DescriptorLimit raise_descriptor_limit();

// Sessions the limit leaves room for after the reserve (zero when it leaves none).
std::size_t sessions_within(std::size_t descriptors);

}  // namespace portcullis::net
