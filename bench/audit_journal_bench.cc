// The audit journal's writer: committed events per second with 1, 8 and 32 sessions
// appending at once, in strict mode (each session waits for its event's commit, as a
// statement waits before it is forwarded) and batched mode (nobody waits; commits every
// batch_delay). The journal is real segment files on this machine's disk, indexed into a real
// SQLite file as the gateway does; `fsyncs_per_event` is commits / events (one fdatasync per
// group).
// BM_JournalStatementAndResult writes what the gateway writes for each pgbench -S statement
// in pass-through (batched): the statement event, then its result event with the one row kept.
#include <benchmark/benchmark.h>
#include <unistd.h>

#include <condition_variable>
#include <filesystem>
#include <mutex>
#include <thread>
#include <vector>

#include "audit/journal.h"
#include "store/journal_store.h"

namespace {

using namespace portcullis;

// Typical statement event: a point select from pgbench -S with its bound parameter.
audit::Event sample_event(std::size_t session, std::size_t n) {
  audit::Event event;
  event.event = audit::kEventStatement;
  event.id = std::to_string(session) + "." + std::to_string(n);
  event.time = std::chrono::system_clock::now();
  event.session = std::to_string(session);
  event.subject = "bench";
  event.subject_kind = "service";
  event.groups = {"bench"};
  event.auth = "gateway_token";
  event.client_addr = "127.0.0.1:50000";
  event.connection = "app-db";
  event.protocol = "postgres";
  event.command = "SELECT abalance FROM pgbench_accounts WHERE aid = $1";
  event.params = std::vector<std::optional<std::string>>{std::to_string(n % 100000)};
  event.fingerprint = "a3b1c2d4e5f60718";
  event.kinds = {"select"};
  event.classes = {"read"};
  event.verdict = "allow";
  event.rule = "bench";
  return event;
}

// The result event that follows sample_event(session, n) once the backend answered.
audit::Event sample_result(std::size_t session, std::size_t n) {
  audit::Event event = sample_event(session, n);
  const std::string statement_id = event.id;
  event.event = audit::kEventResult;
  event.id = std::to_string(session) + "." + std::to_string(n) + "r";
  event.command.reset();
  event.params.reset();
  event.fingerprint.clear();
  event.kinds.clear();
  event.classes.clear();
  event.verdict.clear();
  event.rule.clear();
  event.statement = statement_id;
  event.rows = 1;
  event.bytes_out = 32;
  event.duration_us = 180;
  event.results = audit::ResultRows{{"abalance"}, {{std::to_string(n % 5000)}}, false};
  return event;
}

// A journal in a fresh folder under the build tree's disk (not tmpfs: fsync must cost what
// it costs on the machine).
struct BenchJournal {
  std::filesystem::path dir;
  std::unique_ptr<audit::Journal> journal;

  BenchJournal() {
    dir = std::filesystem::current_path() / ("audit-bench-" + std::to_string(getpid()));
    std::filesystem::remove_all(dir);
    std::filesystem::create_directories(dir);
    auto store = store::open_journal_store("sqlite://" + (dir / "state.db").string(), {});
    if (!store) throw std::runtime_error(store.error().message);
    auto key = identity::SigningKey::generate();
    if (!key) throw std::runtime_error(key.error().message);
    audit::JournalOptions options;
    options.instance = "bench";
    options.dir = dir / "journal";
    auto started = audit::Journal::start(std::move(*store), std::move(*key), options);
    if (!started) throw std::runtime_error(started.error().message);
    journal = std::move(*started);
  }
  ~BenchJournal() {
    journal->close();
    journal.reset();
    std::filesystem::remove_all(dir);
  }
};

// Each session appends `per_session` events; strict sessions wait for each commit.
void run_sessions(audit::Journal& journal, std::size_t sessions, std::size_t per_session,
                  bool strict) {
  std::vector<std::thread> threads;
  threads.reserve(sessions);
  for (std::size_t s = 0; s < sessions; ++s) {
    threads.emplace_back([&journal, s, per_session, strict] {
      std::mutex mutex;
      std::condition_variable done;
      for (std::size_t n = 0; n < per_session; ++n) {
        if (!strict) {
          journal.append(sample_event(s, n));
          continue;
        }
        bool committed = false;
        journal.append(sample_event(s, n), [&](bool) {
          std::lock_guard lock(mutex);
          committed = true;
          done.notify_one();
        });
        std::unique_lock lock(mutex);
        done.wait(lock, [&] { return committed; });
      }
    });
  }
  for (auto& thread : threads) thread.join();
}

void BM_JournalCommit(benchmark::State& state) {
  const bool strict = state.range(0) == 1;
  const auto sessions = static_cast<std::size_t>(state.range(1));
  // Strict sessions are bound by fsync latency: fewer events keep a run short.
  const std::size_t per_session = strict ? 4000 / sessions + 50 : 40000 / sessions;
  BenchJournal bench;
  // Steady state: the index's SQLite WAL grows only until its first checkpoint and is
  // rewritten in place from then on.
  run_sessions(*bench.journal, 1, 20000, false);
  while (bench.journal->stats().events < 20000)
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  const auto warm = bench.journal->stats();
  std::size_t events = warm.events;
  for (auto _ : state) {
    run_sessions(*bench.journal, sessions, per_session, strict);
    events += sessions * per_session;
    // Batched events count once committed, not when handed over.
    while (bench.journal->stats().events < events)
      std::this_thread::sleep_for(std::chrono::microseconds(200));
  }
  const auto stats = bench.journal->stats();
  const auto measured = stats.events - warm.events;  // the warm-up's events are not counted
  state.SetItemsProcessed(static_cast<int64_t>(measured));
  state.counters["fsyncs_per_event"] =
      measured == 0
          ? 0.0
          : static_cast<double>(stats.commits - warm.commits) / static_cast<double>(measured);
}

// The writer's CPU per event without the store: encoding the event and hashing its record.
void BM_EncodeAndHash(benchmark::State& state) {
  const auto event = state.range(0) == 1 ? sample_result(1, 42) : sample_event(1, 42);
  for (auto _ : state) {
    auto encoded = audit::encode_event(event);
    encoded.record[audit::Field::seq] = "1234567";
    encoded.record[audit::Field::instance] = "bench";
    encoded.record.prev_hash = audit::kGenesisHash;
    benchmark::DoNotOptimize(audit::record_hash(encoded.record));
  }
  state.SetItemsProcessed(state.iterations());
}

BENCHMARK(BM_EncodeAndHash)->ArgName("result")->Arg(0)->Arg(1);

// Batched sessions that each append a statement event and its result event per statement.
void BM_JournalStatementAndResult(benchmark::State& state) {
  const auto sessions = static_cast<std::size_t>(state.range(0));
  const std::size_t statements = 20000 / sessions;
  BenchJournal bench;
  run_sessions(*bench.journal, 1, 20000, false);  // warm-up, as above
  while (bench.journal->stats().events < 20000)
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  const auto warm = bench.journal->stats();
  std::size_t events = warm.events;
  for (auto _ : state) {
    std::vector<std::thread> threads;
    for (std::size_t s = 0; s < sessions; ++s) {
      threads.emplace_back([&journal = *bench.journal, s, statements] {
        for (std::size_t n = 0; n < statements; ++n) {
          journal.append(sample_event(s, n));
          journal.append(sample_result(s, n));
        }
      });
    }
    for (auto& thread : threads) thread.join();
    events += 2 * sessions * statements;
    while (bench.journal->stats().events < events)
      std::this_thread::sleep_for(std::chrono::microseconds(200));
  }
  const auto stats = bench.journal->stats();
  state.SetItemsProcessed(static_cast<int64_t>(stats.events - warm.events));
}

BENCHMARK(BM_JournalStatementAndResult)
    ->ArgName("sessions")
    ->Arg(1)
    ->Arg(8)
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime()
    ->Iterations(3);

BENCHMARK(BM_JournalCommit)
    ->ArgNames({"strict", "sessions"})
    ->ArgsProduct({{1, 0}, {1, 8, 32}})
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime()
    ->Iterations(3);

}  // namespace

BENCHMARK_MAIN();
