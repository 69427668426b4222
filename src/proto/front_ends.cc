// The table of front ends: a new protocol is a folder under src/proto/ and one line here.
#include "proto/front_ends.h"

#include "proto/kubernetes/server.h"
#include "proto/mysql/server.h"
#include "proto/postgres/server.h"
#include "proto/ssh/server.h"

namespace portcullis::proto {
namespace {

constexpr gateway::FrontEndEntry kFrontEnds[] = {
    {.protocol = "postgres", .make = &postgres::make_front_end, .serves_mcp = true},
    {.protocol = "mysql", .make = &mysql::make_front_end, .serves_mcp = true},
    {.protocol = "ssh", .make = &ssh::make_front_end, .serves_mcp = true},
    {.protocol = "kubernetes", .make = &kubernetes::make_front_end, .serves_mcp = true},
};

}  // namespace

std::span<const gateway::FrontEndEntry> front_ends() {
  return kFrontEnds;
}

const gateway::FrontEndEntry* find_front_end(std::string_view protocol) {
  for (const auto& entry : kFrontEnds)
    if (entry.protocol == protocol) return &entry;
  return nullptr;
}

}  // namespace portcullis::proto
