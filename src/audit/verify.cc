// Verifying the journal in one pass over its records in seq order, with the checkpoints that
// pin them checked as the scan reaches their seq, so that the first problem found is the one
// at the lowest seq.
#include "audit/verify.h"

#include <fmt/format.h>

#include <algorithm>
#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <boost/json/serialize.hpp>
#include <charconv>
#include <optional>
#include <thread>

#include "audit/event.h"
#include "audit/record.h"
#include "audit/segment_journal.h"

namespace portcullis::audit {
namespace {

// Hashes in messages are shortened to this many hex digits: enough to tell two apart when
// comparing with another copy, short enough to keep the message on one line.
constexpr std::size_t kShownHashDigits = 16;

std::string short_hash(const std::string& hash) {
  return hash.size() > kShownHashDigits ? hash.substr(0, kShownHashDigits) + "..." : hash;
}

std::optional<std::int64_t> parse_seq(const std::optional<std::string>& text) {
  if (!text) return std::nullopt;
  std::int64_t seq = 0;
  const auto [end, ec] = std::from_chars(text->data(), text->data() + text->size(), seq);
  if (ec != std::errc() || end != text->data() + text->size()) return std::nullopt;
  return seq;
}

// A checkpoint to hold the journal against, from the store or from a copy kept elsewhere.
struct Pin {
  const Checkpoint* checkpoint;
  bool external;
};

std::string pin_name(const Pin& pin) {
  return fmt::format("{} at seq {}", pin.external ? "the external checkpoint" : "the checkpoint",
                     pin.checkpoint->seq);
}

class Verifier {
 public:
  Verifier(EVP_PKEY* key, std::vector<Pin> pins) : key_(key), pins_(std::move(pins)) {
    std::stable_sort(pins_.begin(), pins_.end(), [](const Pin& a, const Pin& b) {
      return a.checkpoint->seq < b.checkpoint->seq;
    });
  }

  // Checks one record; false stops the scan at the first failure.
  bool visit(const store::JournalEntry& entry) {
    const Record& record = entry.record;
    const auto seq = parse_seq(record[Field::seq]);
    if (!seq)
      return fail(expected_, fmt::format("the record after seq {} has no valid seq", last_seq()));
    if (*seq != expected_) {
      if (*seq < expected_)
        return fail(*seq, fmt::format("record {} comes after record {}", *seq, expected_ - 1));
      const std::string missing =
          *seq == expected_ + 1 ? fmt::format("record {} is missing", expected_)
                                : fmt::format("records {} to {} are missing", expected_, *seq - 1);
      if (expected_ == 1)
        return fail(1, fmt::format("{} (the journal starts at seq {})", missing, *seq));
      return fail(expected_, fmt::format("{} (the journal goes from seq {} to {})", missing,
                                         last_seq(), *seq));
    }
    if (record_hash(record) != record.hash)
      return fail(*seq, fmt::format("record {} does not match its hash: a field was changed, or "
                                    "records were swapped",
                                    *seq));
    if (record.prev_hash != prev_hash_) {
      if (*seq == 1)
        return fail(1, "record 1 does not start the chain (its prev_hash is not the genesis hash)");
      return fail(*seq, fmt::format("record {} does not follow record {} (its prev_hash is not "
                                    "record {}'s hash): a record was removed, inserted or moved",
                                    *seq, *seq - 1, *seq - 1));
    }
    if (!check_results(entry, *seq)) return false;
    if (record[Field::event] == kEventRecovery)
      report_.recoveries.push_back(
          fmt::format("seq {}: {}", *seq, record[Field::error].value_or("")));
    while (next_pin_ < pins_.size() && pins_[next_pin_].checkpoint->seq <= *seq) {
      if (!check_pin(pins_[next_pin_], record)) return false;
      ++next_pin_;
    }
    prev_hash_ = record.hash;
    ++expected_;
    ++report_.records_checked;
    report_.last_seq = *seq;
    return true;
  }

  // After the scan: checkpoints beyond the last record mean that records were cut off.
  void finish() {
    if (!report_.ok) return;
    const Pin* highest_valid = nullptr;
    const Pin* first_forged = nullptr;
    for (std::size_t i = next_pin_; i < pins_.size(); ++i) {
      count(pins_[i]);
      if (checkpoint_signature_valid(*pins_[i].checkpoint, key_))
        highest_valid = &pins_[i];
      else if (first_forged == nullptr)
        first_forged = &pins_[i];
    }
    if (highest_valid != nullptr) {
      const std::int64_t seq = highest_valid->checkpoint->seq;
      const std::string end = last_seq() == 0
                                  ? std::string("the journal is empty")
                                  : fmt::format("the journal ends at seq {}", last_seq());
      fail(last_seq() + 1, fmt::format("{}, but {} pins seq {}: records {} to {} were removed", end,
                                       pin_name(*highest_valid), seq, last_seq() + 1, seq));
      return;
    }
    if (first_forged != nullptr) {
      fail(first_forged->checkpoint->seq, forged_message(*first_forged));
      return;
    }
    report_.unanchored_records = report_.last_seq - report_.last_checkpoint_seq;
  }

  VerifyReport report() && { return std::move(report_); }

 private:
  std::int64_t last_seq() const { return expected_ - 1; }

  bool fail(std::int64_t seq, std::string message) {
    report_.ok = false;
    report_.first_bad_seq = seq;
    report_.message = std::move(message);
    return false;
  }

  void count(const Pin& pin) {
    if (pin.external)
      ++report_.external_checkpoints_checked;
    else
      ++report_.checkpoints_checked;
  }

  static std::string forged_message(const Pin& pin) {
    return fmt::format(
        "{} has an invalid signature: it was forged or altered, or signed with "
        "another key",
        pin_name(pin));
  }

  bool check_results(const store::JournalEntry& entry, std::int64_t seq) {
    const auto& kept_hash = entry.record[Field::results_sha256];
    if (!entry.results && !kept_hash) return true;
    if (!entry.results)
      return fail(seq, fmt::format("the result rows kept for record {} are missing (the record "
                                   "holds their SHA-256)",
                                   seq));
    if (!kept_hash)
      return fail(seq, fmt::format("result rows are kept for record {}, but the record holds no "
                                   "results_sha256: they were added",
                                   seq));
    if (sha256_hex(*entry.results) != *kept_hash)
      return fail(seq, fmt::format("the result rows kept for record {} do not match its "
                                   "results_sha256: they were changed",
                                   seq));
    return true;
  }

  bool check_pin(const Pin& pin, const Record& record) {
    count(pin);
    const Checkpoint& checkpoint = *pin.checkpoint;
    if (!checkpoint_signature_valid(checkpoint, key_))
      return fail(checkpoint.seq, forged_message(pin));
    if (checkpoint.seq < 1) return fail(1, fmt::format("{} names no record", pin_name(pin)));
    if (checkpoint.hash != record.hash)
      return fail(checkpoint.seq,
                  fmt::format("{} pins hash {}, but record {} has hash {}: the journal was "
                              "rewritten after seq {}",
                              pin_name(pin), short_hash(checkpoint.hash), checkpoint.seq,
                              short_hash(record.hash), report_.last_checkpoint_seq));
    report_.last_checkpoint_seq = std::max(report_.last_checkpoint_seq, checkpoint.seq);
    return true;
  }

  EVP_PKEY* key_;
  std::vector<Pin> pins_;
  std::size_t next_pin_ = 0;
  std::int64_t expected_ = 1;
  std::string prev_hash_ = kGenesisHash;
  VerifyReport report_;
};

}  // namespace

Result<VerifyReport> verify_journal(store::JournalStore& store, EVP_PKEY* public_key,
                                    const std::vector<Checkpoint>& external) {
  auto local = store.checkpoints();
  if (!local) return local.error();
  std::vector<Pin> pins;
  pins.reserve(local->size() + external.size());
  for (const auto& checkpoint : *local) pins.push_back(Pin{&checkpoint, false});
  for (const auto& checkpoint : external) pins.push_back(Pin{&checkpoint, true});
  Verifier verifier(public_key, std::move(pins));
  auto scanned =
      store.scan(1, [&](const store::JournalEntry& entry) { return verifier.visit(entry); });
  if (!scanned) return scanned.error();
  verifier.finish();
  return std::move(verifier).report();
}

Result<VerifyReport> verify_segments(const std::filesystem::path& dir, EVP_PKEY* public_key,
                                     const std::vector<Checkpoint>& external,
                                     std::int64_t index_seq) {
  // The head first: a gateway writing meanwhile only moves the segments past it.
  auto head = read_head(dir);
  SegmentJournal segments(dir);
  auto verified = verify_journal(segments, public_key, external);
  // A group being written while it is read can look torn: a second look tells.
  if (verified && verified->ok && segments.last_read().torn) {
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    verified = verify_journal(segments, public_key, external);
  }
  if (!verified) return verified;
  VerifyReport& report = *verified;
  if (!report.ok) return verified;
  auto fail = [&](std::int64_t seq, std::string message) {
    report.ok = false;
    report.first_bad_seq = seq;
    report.message = std::move(message);
    return std::move(verified);
  };
  const SegmentReadEnd& end = segments.last_read();
  if (end.damage)
    return fail(end.damage->after_seq + 1,
                fmt::format("{} is damaged at offset {}: {}; the records after seq {} cannot be "
                            "read",
                            end.damage->segment.filename().string(), end.damage->offset,
                            end.damage->why, end.damage->after_seq));
  if (!head) return fail(report.last_seq + 1, head.error().message);
  if (*head && (*head)->seq > report.last_seq)
    return fail(report.last_seq + 1,
                fmt::format("the journal ends at seq {}, but its head file says it reached seq "
                            "{}: records {} to {} were removed",
                            report.last_seq, (*head)->seq, report.last_seq + 1, (*head)->seq));
  if (index_seq > report.last_seq)
    return fail(report.last_seq + 1,
                fmt::format("the journal ends at seq {}, but the index in the state store holds "
                            "records up to seq {}: records {} to {} were removed",
                            report.last_seq, index_seq, report.last_seq + 1, index_seq));
  if (end.torn)
    return fail(
        end.torn->after_seq + 1,
        fmt::format("the journal ends in {} bytes at offset {} of {} that are not whole "
                    "records (a write cut short by a crash, or damage); the gateway sets "
                    "them aside and records it when it next starts",
                    end.torn->bytes, end.torn->offset, end.torn->segment.filename().string()));
  if (*head && (*head)->seq == report.last_seq && report.last_seq > 0 &&
      end.last_hash != (*head)->hash)
    return fail(report.last_seq,
                fmt::format("record {} is not the record the journal wrote last (its head file "
                            "holds another hash): the end of the journal was rewritten",
                            report.last_seq));
  return verified;
}

std::string verify_report_to_json(const VerifyReport& report) {
  boost::json::object object;
  object["ok"] = report.ok;
  object["records_checked"] = report.records_checked;
  object["checkpoints_checked"] = report.checkpoints_checked;
  object["external_checkpoints_checked"] = report.external_checkpoints_checked;
  object["last_seq"] = report.last_seq;
  object["last_checkpoint_seq"] = report.last_checkpoint_seq;
  object["unanchored_records"] = report.unanchored_records;
  if (!report.recoveries.empty()) {
    boost::json::array recoveries;
    for (const auto& recovery : report.recoveries) recoveries.emplace_back(recovery);
    object["recoveries"] = std::move(recoveries);
  }
  if (!report.ok) {
    object["first_bad_seq"] = report.first_bad_seq;
    object["message"] = report.message;
  }
  return boost::json::serialize(object);
}

}  // namespace portcullis::audit
