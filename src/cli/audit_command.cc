// `portcullis audit verify|search|export|tail`: the journal for auditors, read from the state
// store with the journal's own connection. Verify exits 1 when the journal was altered.
#include <fmt/format.h>
#include <unistd.h>

#include <algorithm>
#include <boost/json/object.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "audit/jsonl_exporter.h"
#include "audit/record.h"
#include "audit/search.h"
#include "audit/since.h"
#include "audit/verify.h"
#include "cli/api_client.h"
#include "cli/commands.h"
#include "identity/signing_key.h"
#include "store/journal_store.h"

namespace portcullis::cli {
namespace {

// How often `audit tail --follow` looks for new records: the exporter's pace, well under the
// journal's batched-commit delay (100 ms) plus a human's notice.
constexpr std::chrono::milliseconds kFollowPollInterval{200};
// Records read per query by tail --follow and export: bounds memory on a large journal.
constexpr std::size_t kPageSize = 1000;
// Matches shown by `audit search` without --limit.
constexpr std::size_t kDefaultSearchLimit = 100;

const std::vector<std::string> kVerdicts{"allow",    "deny",     "prepared", "review_pending",
                                         "approved", "rejected", "expired"};
const std::vector<std::string> kEvents{"connect", "disconnect", "statement", "result",
                                       "review",  "api",        "mcp"};

struct VerifyArgs {
  std::string checkpoints_file;
  bool json = false;
};

struct SearchArgs {
  store::JournalFilter filter;
  std::string since;
  std::size_t limit = kDefaultSearchLimit;
  bool json = false;
};

struct ExportArgs {
  std::string format = "jsonl";
  std::string since;
  std::string output;
};

struct TailArgs {
  std::size_t lines = 10;
  bool follow = false;
  bool json = false;
};

std::unique_ptr<store::JournalStore> open_journal_store_or_exit(const config::Config& config) {
  store::JournalStoreOptions options;
  options.instance = config.instance;
  auto store = store::open_journal_store(config.state_url, options);
  if (!store) fail(1, store.error().message);
  return std::move(*store);
}

// `--since` as the journal's time text, which compares in time order.
std::string since_time(const std::string& text) {
  auto since = audit::parse_since(text, std::chrono::system_clock::now());
  if (!since) fail(2, "--since: " + since.error().message);
  return audit::format_time(*since);
}

std::int64_t seq_of(const audit::Record& record) {
  return record[audit::Field::seq] ? std::stoll(*record[audit::Field::seq]) : 0;
}

const std::string& text_of(const audit::Record& record, audit::Field field) {
  static const std::string kEmpty;
  return record[field] ? *record[field] : kEmpty;
}

// "2026-11-25T21:04:05.123456789Z" -> "2026-11-25T21:04:05.123Z".
std::string millisecond_time(const std::string& time) {
  constexpr std::size_t kMillisecondsEnd = 23;
  if (time.size() > kMillisecondsEnd + 1 && time.back() == 'Z')
    return time.substr(0, kMillisecondsEnd) + "Z";
  return time;
}

std::string format_duration_us(const std::optional<std::string>& text) {
  if (!text) return "-";
  const double us = std::stod(*text);
  if (us < 1000) return fmt::format("{}us", *text);
  if (us < 1'000'000) return fmt::format("{:.1f}ms", us / 1000);
  return fmt::format("{:.2f}s", us / 1'000'000);
}

// The error's SQLSTATE when it starts with one ("42P01: relation ... does not exist").
std::string error_code(const std::string& error) {
  constexpr std::size_t kSqlstateLength = 5;
  if (error.size() > kSqlstateLength && error[kSqlstateLength] == ':')
    return "error " + printable(error.substr(0, kSqlstateLength));
  return "error";
}

// ---- verify

// The chains other instances sharing the store appended, each checked from the store (their
// segment files are on their own machines): a line each, or a JSON object each with its
// `instance`. False when one fails.
bool verify_other_chains(const config::Config& config, store::JournalStore& index, EVP_PKEY* key,
                         bool json) {
  auto instances = index.instances();
  if (!instances) fail(1, instances.error().message);
  bool ok = true;
  for (const auto& instance : *instances) {
    if (instance == config.instance) continue;
    store::JournalStoreOptions chain_options;
    chain_options.instance = instance;
    chain_options.read_only = true;
    auto chain = store::open_journal_store(config.state_url, chain_options);
    if (!chain) fail(1, chain.error().message);
    auto report = audit::verify_journal(**chain, key);
    if (!report) fail(1, report.error().message);
    ok = ok && report->ok;
    if (json) {
      auto object = boost::json::parse(audit::verify_report_to_json(*report)).as_object();
      object["instance"] = instance;
      fmt::print("{}\n", boost::json::serialize(object));
    } else if (!report->ok) {
      fmt::print(stderr, "instance {}: journal verification failed at seq {}: {}\n",
                 printable(instance), report->first_bad_seq, report->message);
    } else {
      fmt::print(
          "instance {}: journal verified: {} records, {} signed checkpoints; the last pins "
          "seq {}\n",
          printable(instance), report->records_checked, report->checkpoints_checked,
          report->last_checkpoint_seq);
    }
  }
  return ok;
}

void run_verify(const GlobalOptions& options, const VerifyArgs& args) {
  std::vector<audit::Checkpoint> external;
  if (!args.checkpoints_file.empty()) {
    auto read = audit::read_exported_checkpoints(args.checkpoints_file);
    if (!read) fail(2, "--checkpoints: " + read.error().message);
    external = std::move(*read);
  }
  const config::ConfigPtr config = load_config_or_exit(options);
  // The index is read for its last seq only: the segments are the journal checked.
  auto index = open_journal_store_or_exit(*config);
  auto index_tail = index->tail();
  if (!index_tail) fail(1, index_tail.error().message);
  auto key = identity::load_signing_key(config->identity.signing_key_file, false);
  if (!key) fail(1, key.error().message);
  auto report =
      audit::verify_segments(config->audit.journal_dir, key->pkey(), external, index_tail->seq);
  if (!report) fail(1, report.error().message);
  if (args.json) fmt::print("{}\n", audit::verify_report_to_json(*report));
  if (!report->ok) {
    std::fflush(stdout);
    fmt::print(stderr, "journal verification failed at seq {}: {}\n", report->first_bad_seq,
               report->message);
    throw CommandExit{1};
  }
  if (args.json) {
    if (!verify_other_chains(*config, *index, key->pkey(), true)) throw CommandExit{1};
    return;
  }
  for (const auto& recovery : report->recoveries)
    fmt::print("warning: the journal restarted after a torn tail at {}\n", recovery);
  std::string checked = fmt::format("{} signed checkpoint{}", report->checkpoints_checked,
                                    report->checkpoints_checked == 1 ? "" : "s");
  if (!args.checkpoints_file.empty())
    checked +=
        fmt::format(" and {} from {}", report->external_checkpoints_checked, args.checkpoints_file);
  if (report->records_checked == 0)
    fmt::print("journal verified: no records, {}\n", checked);
  else
    fmt::print("journal verified: {} records (seq 1 to {}), {}; the last pins seq {}\n",
               report->records_checked, report->last_seq, checked, report->last_checkpoint_seq);
  if (report->unanchored_records > 0)
    fmt::print(
        "warning: {} record{} after seq {} not yet pinned by a signed checkpoint (the "
        "journal signs one every audit.checkpoint_every records and at shutdown)\n",
        report->unanchored_records, report->unanchored_records == 1 ? " is" : "s are",
        report->last_checkpoint_seq);
  if (!verify_other_chains(*config, *index, key->pkey(), false)) throw CommandExit{1};
}

// ---- search

// Rows of text printed as aligned columns; the widths are those of the first rows printed,
// so that a long result streams without being held in memory.
class Table {
 public:
  explicit Table(std::vector<std::string> headers) : headers_(std::move(headers)) {}

  void add(std::vector<std::string> row) {
    rows_.push_back(std::move(row));
    if (rows_.size() >= kPageSize) flush();
  }

  void flush() {
    if (widths_.empty()) {
      for (const auto& header : headers_) widths_.push_back(header.size());
      for (const auto& row : rows_)
        for (std::size_t i = 0; i < row.size(); ++i)
          widths_[i] = std::max(widths_[i], row[i].size());
      print(headers_);
    }
    for (const auto& row : rows_) print(row);
    rows_.clear();
    std::fflush(stdout);
  }

 private:
  void print(const std::vector<std::string>& row) const {
    std::string line;
    for (std::size_t i = 0; i < row.size(); ++i) {
      line += row[i];
      if (i + 1 < row.size() && row[i].size() < widths_[i] + 2)
        line += std::string(widths_[i] + 2 - row[i].size(), ' ');
      else if (i + 1 < row.size())
        line += "  ";
    }
    fmt::print("{}\n", line);
  }

  std::vector<std::string> headers_;
  std::vector<std::size_t> widths_;
  std::vector<std::vector<std::string>> rows_;
};

std::vector<std::string> hit_row(const audit::SearchHit& hit) {
  using audit::Field;
  const audit::Record joined = audit::joined_record(hit);
  std::string outcome = "-";
  if (!text_of(joined, Field::error).empty())
    outcome = error_code(text_of(joined, Field::error));
  else if (joined[Field::rows])
    outcome = *joined[Field::rows];
  std::string what;
  if (joined[Field::command])
    what = printable(*joined[Field::command]);
  else
    what = fmt::format("({}) {}", text_of(joined, Field::event),
                       printable(text_of(joined, Field::error)));
  return {std::to_string(seq_of(joined)),
          millisecond_time(text_of(joined, Field::time)),
          printable(text_of(joined, Field::subject)),
          printable(text_of(joined, Field::connection)),
          text_of(joined, Field::verdict).empty() ? "-" : text_of(joined, Field::verdict),
          outcome,
          format_duration_us(joined[Field::duration_us]),
          what};
}

void run_search(const GlobalOptions& options, const SearchArgs& args) {
  audit::SearchQuery query;
  query.filter = args.filter;
  if (!args.since.empty()) query.filter.since = since_time(args.since);
  query.limit = args.limit;
  const config::ConfigPtr config = load_config_or_exit(options);
  auto journal = open_journal_store_or_exit(*config);
  Table table({"SEQ", "TIME", "SUBJECT", "CONNECTION", "VERDICT", "ROWS", "DURATION", "COMMAND"});
  auto hits = audit::search_journal(*journal, query, [&](const audit::SearchHit& hit) {
    if (args.json)
      fmt::print("{}\n", audit::search_hit_to_json(hit));
    else
      table.add(hit_row(hit));
  });
  if (!hits) fail(1, hits.error().message);
  if (!args.json) {
    if (*hits == 0) {
      fmt::print(stderr, "no matching records\n");
      return;
    }
    table.flush();
  }
  if (args.limit > 0 && *hits == args.limit) {
    std::fflush(stdout);
    fmt::print(stderr, "showing the newest {} matches (--limit 0 shows all)\n", args.limit);
  }
}

// ---- export

// One instance's chain from the first record at or after `since` (RFC 3339; empty: the start)
// on, every record, with the checkpoints that pin them: times are taken when the event happens
// and may be a little out of seq order, and a SIEM wants the chain unbroken.
void export_chain(store::JournalStore& journal, const std::string& since, std::FILE* out) {
  store::JournalFilter filter;
  filter.own_chain = true;
  if (!since.empty()) {
    store::JournalFilter first = filter;
    first.since = since;
    first.limit = 1;
    auto found = journal.search(first);
    if (!found) fail(1, found.error().message);
    if (found->empty()) return;
    filter.after_seq = seq_of(found->front()) - 1;
  }
  auto checkpoints = journal.checkpoints();
  if (!checkpoints) fail(1, checkpoints.error().message);
  auto checkpoint = std::find_if(checkpoints->begin(), checkpoints->end(),
                                 [&](const auto& c) { return c.seq > filter.after_seq; });
  filter.limit = kPageSize;
  for (;;) {
    auto records = journal.search(filter);
    if (!records) fail(1, records.error().message);
    for (const auto& record : *records) {
      fmt::print(out, "{}\n", audit::to_json(record));
      const std::int64_t seq = seq_of(record);
      for (; checkpoint != checkpoints->end() && checkpoint->seq <= seq; ++checkpoint)
        fmt::print(out, "{}\n", audit::checkpoint_to_json(*checkpoint));
    }
    if (records->size() < kPageSize) break;
    filter.after_seq = seq_of(records->back());
  }
}

// Every instance's chain in turn (one, unless several instances share a PostgreSQL store),
// each verifiable on its own.
void run_export(const GlobalOptions& options, const ExportArgs& args) {
  std::string since;
  if (!args.since.empty()) since = since_time(args.since);
  const config::ConfigPtr config = load_config_or_exit(options);
  auto journal = open_journal_store_or_exit(*config);
  auto instances = journal->instances();
  if (!instances) fail(1, instances.error().message);

  std::FILE* out = stdout;
  if (!args.output.empty()) {
    out = std::fopen(args.output.c_str(), "w");
    if (out == nullptr)
      fail(1, fmt::format("cannot write {}: {}", args.output, std::strerror(errno)));
  }
  for (const auto& instance : *instances) {
    if (instance == config->instance) {
      export_chain(*journal, since, out);
      continue;
    }
    store::JournalStoreOptions chain_options;
    chain_options.instance = instance;
    chain_options.read_only = true;
    auto chain = store::open_journal_store(config->state_url, chain_options);
    if (!chain) fail(1, chain.error().message);
    export_chain(**chain, since, out);
  }
  const bool written = std::fflush(out) == 0 && std::ferror(out) == 0 &&
                       (out == stdout || ::fsync(fileno(out)) == 0);
  if (out != stdout) std::fclose(out);
  if (!written)
    fail(1, fmt::format("cannot write {}", args.output.empty() ? "stdout" : args.output));
}

// ---- tail

std::string record_line(const audit::Record& record) {
  using audit::Field;
  const std::string& event = text_of(record, Field::event);
  std::vector<std::string> parts;
  const auto add = [&](std::string_view label, Field field) {
    if (record[field]) parts.push_back(fmt::format("{}{}", label, printable(*record[field])));
  };
  if (event == audit::kEventStatement) {
    add("", Field::verdict);
    add("rule=", Field::rule);
    if (!parts.empty()) parts.back() += ':';
    add("", Field::command);
  } else {
    if (event == audit::kEventResult) {
      add("of ", Field::statement);
    } else {
      add("from ", Field::client_addr);
      // Who logged in with what is told once, on the connect record.
      if (event == audit::kEventConnect) add("with ", Field::credential);
      add("", Field::verdict);
    }
    add("rows=", Field::rows);
    add("bytes_in=", Field::bytes_in);
    add("bytes_out=", Field::bytes_out);
    add("masked=", Field::masked);
    if (record[Field::duration_us]) parts.push_back(format_duration_us(record[Field::duration_us]));
    add("error: ", Field::error);
  }
  std::string detail;
  for (const auto& part : parts) detail += (detail.empty() ? "" : " ") + part;
  return fmt::format("{:>7}  {}  {:<10}  {} -> {}  {}", seq_of(record),
                     millisecond_time(text_of(record, Field::time)), printable(event),
                     printable(text_of(record, Field::subject)),
                     printable(text_of(record, Field::connection)), detail);
}

void print_records(const std::vector<audit::Record>& records, bool json) {
  for (const auto& record : records)
    fmt::print("{}\n", json ? audit::to_json(record) : record_line(record));
  std::fflush(stdout);
}

void run_tail(const GlobalOptions& options, const TailArgs& args) {
  const config::ConfigPtr config = load_config_or_exit(options);
  auto journal = open_journal_store_or_exit(*config);
  std::int64_t last_cursor = 0;
  if (args.lines > 0) {
    store::JournalFilter newest;
    newest.limit = args.lines;
    newest.newest_first = true;
    auto records = journal->search(newest);
    if (!records) fail(1, records.error().message);
    std::reverse(records->begin(), records->end());
    print_records(*records, args.json);
    if (!records->empty()) last_cursor = records->back().cursor;
  }
  if (!args.follow) return;
  if (args.lines == 0) {
    auto end = journal->last_cursor();
    if (!end) fail(1, end.error().message);
    last_cursor = *end;
  }
  store::JournalFilter next;
  next.limit = kPageSize;
  for (;;) {
    next.after_cursor = last_cursor;
    auto records = journal->search(next);
    if (!records) fail(1, records.error().message);
    print_records(*records, args.json);
    if (!records->empty()) last_cursor = records->back().cursor;
    if (records->size() < kPageSize) std::this_thread::sleep_for(kFollowPollInterval);
  }
}

}  // namespace

void add_audit_command(CLI::App& app, GlobalOptions& options) {
  auto* audit = app.add_subcommand("audit", "The audit journal: verify, search, export, tail");
  audit->require_subcommand(1);

  auto verify_args = std::make_shared<VerifyArgs>();
  auto* verify = audit->add_subcommand(
      "verify", "Check the hash chain and signed checkpoints; exit 1 at the first bad record");
  verify->add_option("--checkpoints", verify_args->checkpoints_file,
                     "A JSONL export kept elsewhere: its checkpoints must match the journal too");
  verify->add_flag("--json", verify_args->json, "Print the report as one JSON object");
  verify->callback([&options, verify_args] { run_verify(options, *verify_args); });

  auto search_args = std::make_shared<SearchArgs>();
  auto* search = audit->add_subcommand(
      "search", "Statements (with their outcome) or other events that match every filter given");
  search->add_option("--subject", search_args->filter.subject, "Who ran it");
  search->add_option("--connection", search_args->filter.connection, "Which connection");
  search->add_option("--instance", search_args->filter.instance,
                     "Which gateway instance recorded it (several instances share a store)");
  search->add_option("--session", search_args->filter.session, "Which session (its id)");
  search->add_option(
      "--credential", search_args->filter.credential,
      "Which credential logged in, as records name it (ssh_key ID FINGERPRINT, ...)");
  search->add_option("--verdict", search_args->filter.verdict, "allow, deny, review_pending, ...")
      ->check(CLI::IsMember(kVerdicts));
  search->add_option("--event", search_args->filter.event, "Which records (default: statement)")
      ->check(CLI::IsMember(kEvents));
  search->add_option("--since", search_args->since,
                     "From this time on: RFC 3339, a date, or back from now (15m, 2h, 1d)");
  search->add_option("--contains", search_args->filter.contains,
                     "Text the command contains (as written, no wildcards)");
  search->add_option("--limit", search_args->limit, "Show the newest N matches; 0 shows all")
      ->capture_default_str();
  search->add_flag("--json", search_args->json, "One JSON object a line");
  search->callback([&options, search_args] { run_search(options, *search_args); });

  auto export_args = std::make_shared<ExportArgs>();
  auto* exporter = audit->add_subcommand(
      "export", "Every record and signed checkpoint as JSON lines, for a SIEM or archive");
  exporter->add_option("--format", export_args->format, "Output format")
      ->check(CLI::IsMember({"jsonl"}))
      ->capture_default_str();
  exporter->add_option("--since", export_args->since,
                       "From the first record at or after this time (RFC 3339, 15m, 2h, 1d)");
  exporter->add_option("--output", export_args->output, "Write to FILE instead of stdout");
  exporter->callback([&options, export_args] { run_export(options, *export_args); });

  auto tail_args = std::make_shared<TailArgs>();
  auto* tail = audit->add_subcommand("tail", "The latest records, then new ones with --follow");
  tail->add_option("-n,--lines", tail_args->lines, "How many of the latest records")
      ->capture_default_str();
  tail->add_flag("-f,--follow", tail_args->follow, "Keep printing records as they are committed");
  tail->add_flag("--json", tail_args->json, "One JSON object a line");
  tail->callback([&options, tail_args] { run_tail(options, *tail_args); });
}

}  // namespace portcullis::cli
