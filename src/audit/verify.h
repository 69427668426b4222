// Verification of the audit journal: every record against its hash and its predecessor, every
// kept result body against the hash its record holds, every signed checkpoint against the
// record it pins. A pure check over what the store returns: it writes nothing.
#pragma once

#include <openssl/evp.h>

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "audit/checkpoint.h"
#include "common/result.h"
#include "store/journal_store.h"

namespace portcullis::audit {

struct VerifyReport {
  bool ok = true;
  std::int64_t records_checked = 0;
  std::int64_t checkpoints_checked = 0;           // the store's own
  std::int64_t external_checkpoints_checked = 0;  // from copies kept elsewhere
  std::int64_t last_seq = 0;                      // of the last record in the journal
  std::int64_t last_checkpoint_seq = 0;           // highest seq a valid checkpoint pins
  // Records after the last checkpoint: chained, but not yet pinned by a signature. Someone
  // who can write the store can remove them without a trace, so this is a warning to act on
  // (ship checkpoints off the machine), not a failure.
  std::int64_t unanchored_records = 0;
  std::int64_t first_bad_seq = 0;  // 0 when ok
  std::string message;             // why, when not ok
  // `recovery` records: where the journal restarted after a torn tail, and what it lost
  // ("seq N: ..."). Not failures, but every one is shown.
  std::vector<std::string> recoveries;
};

// Checks the whole journal in `store` and its checkpoints with the gateway's public key
// (`public_key` may be the private key: only its public half is used). `external` holds
// checkpoints copied off the machine (read_exported_checkpoints): each must carry a valid
// signature and pin a record that is still there with the same hash, which catches a journal
// cut back past the store's own checkpoints, or rewritten and re-signed with the key.
// An error is returned only when the store cannot be read; a journal that fails the check is
// a report with ok false.
Result<VerifyReport> verify_journal(store::JournalStore& store, EVP_PKEY* public_key,
                                    const std::vector<Checkpoint>& external = {});

// The journal of record: the segment files in `dir`, checked as verify_journal does, then
// what lies past their last record (a torn tail or damage fails), the head file (a journal
// that ends before the seq it names, or at another record, was cut back or rewritten), and
// `index_seq`, the last seq the state store's index holds (0: not known), which the segments
// must reach.
Result<VerifyReport> verify_segments(const std::filesystem::path& dir, EVP_PKEY* public_key,
                                     const std::vector<Checkpoint>& external = {},
                                     std::int64_t index_seq = 0);

// The report as one JSON object (the fields above; first_bad_seq and message only when not ok).
std::string verify_report_to_json(const VerifyReport& report);

}  // namespace portcullis::audit
