// JournalStore: where the audit journal's records, kept result rows and signed checkpoints
// live. The audit module decides what a record holds and how it is chained; the store keeps
// records in sequence and commits each batch in one durable transaction.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"
#include "store/journal_record.h"

namespace portcullis::store {

// A signed statement that the journal held `seq` records, the last with `hash`.
struct JournalCheckpoint {
  int64_t seq = 0;
  std::string hash;
  std::string time;  // RFC 3339, UTC
  std::string instance;
  std::string key_id;
  std::string signature;  // base64url Ed25519 signature over the checkpoint's signing input
};

// The last record committed: seq 0 and an empty hash when the journal is empty.
struct JournalTail {
  int64_t seq = 0;
  std::string hash;
};

// One record to append, with the result rows kept for it (JSON text) if any.
struct JournalEntry {
  JournalRecord record;
  std::optional<std::string> results;
};

struct JournalBatch {
  std::vector<JournalEntry> entries;  // seq consecutive after the tail they were built on
  std::vector<JournalCheckpoint> checkpoints;
};

// Search filters; empty ones match everything. Records come in cursor order (see
// JournalStore::search).
struct JournalFilter {
  std::string instance;  // records of this gateway instance's chain only
  std::string subject;
  std::string connection;
  std::string session;
  std::string verdict;
  std::string event;
  std::string credential;  // the credential a caller logged in with, as the record names it
  std::string since;       // RFC 3339: records at or after this time
  std::string contains;    // a substring of the command text or of its bound parameters
  // Only the chain the store was opened for (JournalStoreOptions::instance): what follows
  // one chain by seq (after_seq) needs it. A store one instance has to itself holds one chain,
  // whatever names its records carry.
  bool own_chain = false;
  int64_t after_cursor = 0;   // records whose cursor is greater (every instance's)
  int64_t after_seq = 0;      // records whose seq is greater: a place in one chain
  int64_t before_cursor = 0;  // records whose cursor is smaller (every instance's); 0: no bound
  std::size_t limit = 0;      // 0: no limit
  bool newest_first = false;
};

class JournalStore {
 public:
  virtual ~JournalStore() = default;

  // In one transaction that holds the store's write lock: reads the tail, asks `build` for
  // the batch that follows it, writes the batch and commits it durably (fsync). Nothing is
  // written when `build` or any step fails.
  virtual Result<void> append(
      const std::function<Result<JournalBatch>(const JournalTail&)>& build) = 0;
  // A small durable write that succeeds only when appends would: the journal's health probe.
  virtual Result<void> probe() = 0;

  // tail, scan, checkpoints and append concern the chain of the instance the store was opened
  // for (JournalStoreOptions::instance); a store one instance has to itself holds one chain.
  virtual Result<JournalTail> tail() = 0;
  // Calls `visit` with every record from `from_seq` on in seq order, until it returns false.
  virtual Result<void> scan(int64_t from_seq,
                            const std::function<bool(const JournalEntry&)>& visit) = 0;
  virtual Result<std::vector<JournalCheckpoint>> checkpoints() = 0;
  // The instances whose chains the store holds, for verifying each of them.
  virtual Result<std::vector<std::string>> instances() = 0;

  // Searches every instance's records. Each record found carries its cursor
  // (JournalRecord::cursor): its place in the order the store took records in, across
  // instances, which only grows. A store one instance has to itself uses the seq.
  virtual Result<std::vector<JournalRecord>> search(const JournalFilter& filter) = 0;
  // The greatest cursor given so far (0: none): where a live tail of the journal starts.
  virtual Result<int64_t> last_cursor() = 0;
  // The result record(s) that follow up on the statement records with these ids.
  virtual Result<std::vector<JournalRecord>> results_for(const std::vector<std::string>& ids) = 0;
  virtual Result<std::optional<std::string>> result_rows(int64_t seq) = 0;
};

struct JournalStoreOptions {
  // How long a write waits for another connection's lock before it fails.
  int busy_timeout_ms = 1000;
  bool read_only = false;
  // The gateway instance whose chain this store appends to and reads (config `instance`).
  std::string instance;
  // Set for the one store that appends the instance's chain (the journal's index): in a store
  // shared by several instances it claims the chain's name, and is refused when another
  // instance of that name holds it.
  bool appends_chain = false;
};

// Opens the journal in the state store named by a normalised state URL (its own connection).
Result<std::unique_ptr<JournalStore>> open_journal_store(std::string_view url,
                                                         const JournalStoreOptions& options);

}  // namespace portcullis::store
