// A journal in a real SQLite file in a temporary folder, filled through audit::Journal as the
// gateway fills it, and raw SQL on that file for tampering with it the way someone with
// access to the machine could.
#pragma once

#include <gtest/gtest.h>

#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "audit/event.h"
#include "audit/journal.h"
#include "audit/verify.h"
#include "identity/signing_key.h"
#include "store/journal_store.h"
#include "support/temp_dir.h"

namespace portcullis::audit::testing {

identity::SigningKey new_signing_key();

// For EXPECT_TRUE: `text` contains `part`; the failure shows both.
::testing::AssertionResult Contains(std::string_view text, std::string_view part);

struct SessionSpec {
  std::string session = "s1";
  std::string subject = "alice";
  std::string connection = "app-db";
  int statements = 12;
  TimePoint start = TimePoint(std::chrono::seconds(1'790'000'000));  // 2026-09-21
  std::string verdict = "allow";
};

// A session as the gateway records it: connect, then for each statement a statement event
// ("SELECT n FROM t<n>") and a result event with kept rows, then disconnect. With the
// defaults: 26 records; statement k at seq 2k, its result at 2k+1.
std::vector<Event> session_events(const SessionSpec& spec);

class JournalFixture : public ::testing::Test {
 protected:
  static constexpr std::uint64_t kCheckpointEvery = 10;
  // Small, so that a few hundred records span several segments.
  static constexpr std::uint64_t kSegmentSize = 64 << 10;

  std::unique_ptr<store::JournalStore> open_store() const;
  // Starts a journal, appends `events`, closes it (which signs a last checkpoint).
  void write_events(const std::vector<Event>& events,
                    std::uint64_t checkpoint_every = kCheckpointEvery);
  // A journal left open, for tests that watch records arrive.
  std::unique_ptr<Journal> start_journal(std::uint64_t checkpoint_every = kCheckpointEvery);
  // One SQL statement with text parameters, or (without parameters) a script, on the file
  // through its own connection.
  void exec_sql(const std::string& sql, const std::vector<std::string>& params = {}) const;
  std::vector<std::string> query_column(const std::string& sql) const;
  VerifyReport verify(const std::vector<Checkpoint>& external = {});

  portcullis::testing::TempDir dir_{"portcullis-audit-"};
  std::filesystem::path db_file_ = dir_ / "state.db";
  std::string state_url_ = "sqlite://" + db_file_.string();
  std::filesystem::path journal_dir_ = dir_ / "journal";
  identity::SigningKey key_ = new_signing_key();
};

}  // namespace portcullis::audit::testing
