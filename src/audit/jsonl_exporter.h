// The JSONL exporter (audit.exporters kind: jsonl): follows the committed journal into a file,
// one JSON object per line — each record as to_json writes it, each signed checkpoint as
// checkpoint_to_json writes it, after the record it pins — for a SIEM or WORM storage to
// collect. A copy of the checkpoints kept off the machine is what lets `audit verify
// --checkpoints` catch a journal cut back or rewritten by someone with root.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "audit/checkpoint.h"
#include "common/result.h"
#include "store/journal_store.h"

namespace portcullis::audit {

struct JsonlExporterOptions {
  std::filesystem::path path;
  // How often the store is asked for records committed since the last look.
  std::chrono::milliseconds poll_interval{200};
  // Records read and written per query and per fsync: bounds the exporter's memory.
  std::size_t page_size = 1000;
  // The journal's audit.checkpoint_every: checkpoints are looked for when the exported records
  // reach a multiple of it (the journal signs them in the same commit), and at start and stop
  // (where the journal signs its last one). 0: at start and stop only.
  std::uint64_t checkpoint_every = 1000;
};

class JsonlExporter {
 public:
  // Opens (creating, mode 0640) the file, drops a torn last line left by a crash, finds the
  // last record it holds, checks that the journal holds the same record there, and starts
  // following the journal from the next one on its own thread. `store` is the exporter's own
  // connection.
  static Result<std::unique_ptr<JsonlExporter>> start(std::unique_ptr<store::JournalStore> store,
                                                      JsonlExporterOptions options);
  ~JsonlExporter();
  JsonlExporter(const JsonlExporter&) = delete;
  JsonlExporter& operator=(const JsonlExporter&) = delete;

  // Exports what is committed (with the journal's last checkpoint, when the journal was closed
  // first), then stops the thread. Idempotent.
  void stop();

  // The seq of the last record in the file.
  std::int64_t exported_seq() const { return exported_seq_.load(std::memory_order_acquire); }
  // False while writing the file or reading the store fails (it is tried again each poll).
  bool healthy() const { return healthy_.load(std::memory_order_acquire); }
  std::string last_error() const;

 private:
  JsonlExporter(std::unique_ptr<store::JournalStore> store, JsonlExporterOptions options, int fd);
  Result<void> resume();
  void run();
  // Writes every committed record not yet in the file; `read_checkpoints` forces a look at
  // the store's checkpoints.
  Result<void> poll(bool read_checkpoints);
  Result<void> load_checkpoints();
  // Appends `lines` and syncs them; on failure cuts the file back, so that no torn line stays.
  Result<void> write_synced(const std::string& lines);
  void record_outcome(const Result<void>& outcome);

  std::unique_ptr<store::JournalStore> store_;
  JsonlExporterOptions options_;
  int fd_;
  off_t file_size_ = 0;
  // Checkpoints up to this seq are in the file; later ones are written after their record.
  std::int64_t last_checkpoint_in_file_ = 0;
  // Checkpoints read from the store and not yet written, by seq: each goes out after its record.
  std::map<std::int64_t, Checkpoint> pending_checkpoints_;

  mutable std::mutex mutex_;
  std::condition_variable wake_;
  bool stopping_ = false;
  std::string last_error_;
  std::atomic<std::int64_t> exported_seq_{0};
  std::atomic<bool> healthy_{true};
  std::thread thread_;
};

// The checkpoints in a JSONL file as the exporter writes it (lines {"checkpoint": {...}};
// record lines are skipped), for `audit verify --checkpoints`. An unterminated last line is
// ignored as torn; any other line that is not JSON is an error.
Result<std::vector<Checkpoint>> read_exported_checkpoints(const std::filesystem::path& path);

}  // namespace portcullis::audit
