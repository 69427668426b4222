// Journal records must encode and hash exactly as they always have: the canonical form of a
// record, and with it every hash in existing journals, depends on each byte. The encoder and the
// hasher are written by hand for speed; these tests hold them against the straightforward
// implementations they replaced (Boost.JSON's serializer, fmt, EVP_Digest over a new string),
// over every byte value and many random events.
#include <fmt/chrono.h>
#include <fmt/format.h>
#include <gtest/gtest.h>
#include <openssl/evp.h>

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/value_from.hpp>
#include <random>

#include "audit/event.h"
#include "audit/record.h"

namespace portcullis::audit {
namespace {

// --- the implementations the journal used before (reference) ------------------------------

std::string reference_strings_json(const std::vector<std::string>& values) {
  boost::json::array array;
  for (const auto& value : values) array.emplace_back(value);
  return boost::json::serialize(array);
}

boost::json::array reference_optional_strings(
    const std::vector<std::optional<std::string>>& values) {
  boost::json::array array;
  for (const auto& value : values) {
    if (value)
      array.emplace_back(boost::json::string_view(*value));
    else
      array.emplace_back(nullptr);
  }
  return array;
}

std::string reference_format_time(TimePoint time) {
  const auto since_epoch = time.time_since_epoch();
  const auto seconds = std::chrono::floor<std::chrono::seconds>(since_epoch);
  const auto nanos = std::chrono::duration_cast<std::chrono::nanoseconds>(since_epoch - seconds);
  const std::time_t t = seconds.count();
  std::tm utc{};
  gmtime_r(&t, &utc);
  return fmt::format("{:%Y-%m-%dT%H:%M:%S}.{:09d}Z", utc, nanos.count());
}

std::string reference_sha256_hex(std::string_view bytes) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  EXPECT_EQ(EVP_Digest(bytes.data(), bytes.size(), digest, &length, EVP_sha256(), nullptr), 1);
  std::string out;
  for (unsigned int i = 0; i < length; ++i) out += fmt::format("{:02x}", digest[i]);
  return out;
}

void reference_set_text(Record& record, Field field, const std::string& value) {
  if (!value.empty()) record[field] = value;
}

EncodedEvent reference_encode_event(const Event& event) {
  EncodedEvent out;
  Record& record = out.record;
  reference_set_text(record, Field::event, event.event);
  reference_set_text(record, Field::id, event.id);
  record[Field::time] = reference_format_time(event.time);
  reference_set_text(record, Field::session, event.session);
  reference_set_text(record, Field::subject, event.subject);
  reference_set_text(record, Field::subject_kind, event.subject_kind);
  if (!event.subject.empty()) record[Field::groups] = reference_strings_json(event.groups);
  reference_set_text(record, Field::auth, event.auth);
  reference_set_text(record, Field::client_addr, event.client_addr);
  reference_set_text(record, Field::connection, event.connection);
  reference_set_text(record, Field::protocol, event.protocol);
  reference_set_text(record, Field::credential, event.credential);
  if (event.command) record[Field::command] = *event.command;
  if (event.params)
    record[Field::params] = boost::json::serialize(reference_optional_strings(*event.params));
  reference_set_text(record, Field::fingerprint, event.fingerprint);
  if (!event.kinds.empty()) record[Field::kinds] = reference_strings_json(event.kinds);
  if (!event.classes.empty()) record[Field::classes] = reference_strings_json(event.classes);
  reference_set_text(record, Field::verdict, event.verdict);
  reference_set_text(record, Field::rule, event.rule);
  reference_set_text(record, Field::reviewer, event.reviewer);
  reference_set_text(record, Field::statement, event.statement);
  if (event.rows) record[Field::rows] = std::to_string(*event.rows);
  if (event.bytes_in) record[Field::bytes_in] = std::to_string(*event.bytes_in);
  if (event.bytes_out) record[Field::bytes_out] = std::to_string(*event.bytes_out);
  if (!event.masked.empty()) {
    boost::json::object masked;
    for (const auto& [name, count] : event.masked) masked[name] = count;
    record[Field::masked] = boost::json::serialize(masked);
  }
  if (event.duration_us) record[Field::duration_us] = std::to_string(*event.duration_us);
  reference_set_text(record, Field::error, event.error);
  if (event.results) {
    boost::json::object body;
    body["columns"] = boost::json::value_from(event.results->columns);
    boost::json::array rows;
    for (const auto& row : event.results->rows) rows.emplace_back(reference_optional_strings(row));
    body["rows"] = std::move(rows);
    body["truncated"] = event.results->truncated;
    out.results = boost::json::serialize(body);
    record[Field::results_sha256] = reference_sha256_hex(*out.results);
  }
  return out;
}

// The fields appended since the first format (credential) are written only when present.
std::string reference_canonical_form(const Record& record) {
  std::string out = "portcullis-audit-v1\nprev_hash:" + record.prev_hash + "\n";
  for (std::size_t i = 0; i < kFieldCount; ++i) {
    const auto& value = record.fields[i];
    const auto name = field_info(static_cast<Field>(i)).name;
    if (!value && i >= kOriginalFieldCount) continue;
    if (value)
      out += fmt::format("{}:{}:{}\n", name, value->size(), *value);
    else
      out += fmt::format("{}:~\n", name);
  }
  return out;
}

// --- random events -------------------------------------------------------------------------

class Random {
 public:
  explicit Random(uint32_t seed) : engine_(seed) {}
  std::size_t below(std::size_t n) {
    return std::uniform_int_distribution<std::size_t>(0, n - 1)(engine_);
  }
  bool chance(int percent) { return below(100) < static_cast<std::size_t>(percent); }
  // Any bytes: control characters, quotes, backslashes, DEL, UTF-8 and invalid UTF-8.
  std::string text(std::size_t max = 24) {
    std::string out(below(max + 1), '\0');
    for (auto& c : out) c = static_cast<char>(below(256));
    return out;
  }
  std::string maybe_text() { return chance(30) ? std::string() : text(); }
  std::vector<std::string> texts() {
    std::vector<std::string> out(below(4));
    for (auto& value : out) value = text();
    return out;
  }
  std::vector<std::optional<std::string>> optional_texts() {
    std::vector<std::optional<std::string>> out(below(4));
    for (auto& value : out)
      if (!chance(25)) value = text();
    return out;
  }
  int64_t number() {
    return std::uniform_int_distribution<int64_t>(std::numeric_limits<int64_t>::min(),
                                                  std::numeric_limits<int64_t>::max())(engine_);
  }

 private:
  std::mt19937 engine_;
};

Event random_event(Random& random) {
  Event event;
  event.event = random.maybe_text();
  event.id = random.maybe_text();
  // Any second a TimePoint holds (nanoseconds since 1970: 1677 to 2262), nanoseconds included.
  const int64_t lowest = -9'200'000'000LL, highest = 9'200'000'000LL;
  const auto second =
      lowest + static_cast<int64_t>(random.below(static_cast<std::size_t>(highest - lowest + 1)));
  event.time = TimePoint(std::chrono::duration_cast<TimePoint::duration>(
      std::chrono::seconds(second) +
      std::chrono::nanoseconds(static_cast<int64_t>(random.below(1'000'000'000)))));
  event.session = random.maybe_text();
  event.subject = random.maybe_text();
  event.subject_kind = random.maybe_text();
  event.groups = random.texts();
  event.auth = random.maybe_text();
  event.client_addr = random.maybe_text();
  event.connection = random.maybe_text();
  event.protocol = random.maybe_text();
  if (random.chance(70)) event.command = random.text(200);
  if (random.chance(50)) event.params = random.optional_texts();
  event.fingerprint = random.maybe_text();
  event.kinds = random.texts();
  event.classes = random.texts();
  event.verdict = random.maybe_text();
  event.rule = random.maybe_text();
  event.reviewer = random.maybe_text();
  event.statement = random.maybe_text();
  if (random.chance(50)) event.rows = random.number();
  if (random.chance(50)) event.bytes_in = static_cast<uint64_t>(random.number());
  if (random.chance(50)) event.bytes_out = static_cast<uint64_t>(random.number());
  for (std::size_t i = random.below(3); i > 0; --i)
    event.masked[random.text()] = static_cast<uint64_t>(random.number());
  if (random.chance(50)) event.duration_us = random.number();
  event.error = random.maybe_text();
  if (random.chance(50)) {
    ResultRows rows;
    rows.columns = random.texts();
    for (std::size_t i = random.below(4); i > 0; --i) rows.rows.push_back(random.optional_texts());
    rows.truncated = random.chance(50);
    event.results = std::move(rows);
  }
  // Last, so that the fields above are drawn as they were before it existed.
  event.credential = random.maybe_text();
  return event;
}

void expect_same_record(const EncodedEvent& actual, const EncodedEvent& expected) {
  for (std::size_t i = 0; i < kFieldCount; ++i)
    EXPECT_EQ(actual.record.fields[i], expected.record.fields[i])
        << "field " << field_info(static_cast<Field>(i)).name;
  EXPECT_EQ(actual.results, expected.results);
}

// --- tests ----------------------------------------------------------------------------------

TEST(JournalEncodingTest, EscapesEveryByteAsBoostJsonDid) {
  for (int c = 0; c < 256; ++c) {
    Event event;
    const std::string text = std::string("a") + static_cast<char>(c) + "b";
    event.kinds = {text, std::string(1, static_cast<char>(c))};
    event.params = std::vector<std::optional<std::string>>{text, std::nullopt};
    event.masked = {{text, 7}};
    event.results = ResultRows{{text}, {{text, std::nullopt}}, false};
    expect_same_record(encode_event(event), reference_encode_event(event));
  }
}

TEST(JournalEncodingTest, EncodesRandomEventsAsBefore) {
  Random random(20261125);
  for (int i = 0; i < 5000; ++i) {
    const Event event = random_event(random);
    SCOPED_TRACE(i);
    expect_same_record(encode_event(event), reference_encode_event(event));
  }
}

TEST(JournalEncodingTest, FormatsTimesAsBefore) {
  const TimePoint epoch;
  const std::vector<TimePoint> times = {
      epoch,
      epoch - std::chrono::nanoseconds(1),
      epoch + std::chrono::nanoseconds(999'999'999),
      TimePoint(std::chrono::seconds(1'790'000'000)),
      TimePoint(std::chrono::seconds(951'782'400)),    // 2000-02-29
      TimePoint(std::chrono::seconds(4'107'542'399)),  // 2100-02-28T23:59:59
      TimePoint::min() + std::chrono::seconds(1),      // 1677-09-21
      TimePoint::max() - std::chrono::seconds(1),      // 2262-04-11
  };
  for (const auto time : times) EXPECT_EQ(format_time(time), reference_format_time(time));
}

TEST(JournalEncodingTest, TakesWhoAndWhereFromTheSessionsOrigin) {
  Random random(7);
  for (int i = 0; i < 500; ++i) {
    Event event = random_event(random);
    Event with_origin = event;
    with_origin.origin = make_origin(EventOrigin{.session = event.session,
                                                 .subject = event.subject,
                                                 .subject_kind = event.subject_kind,
                                                 .groups = event.groups,
                                                 .auth = event.auth,
                                                 .credential = event.credential,
                                                 .client_addr = event.client_addr,
                                                 .connection = event.connection,
                                                 .protocol = event.protocol,
                                                 .groups_json = {}});
    // The event's own copies are ignored when it has an origin.
    with_origin.session = with_origin.subject = with_origin.client_addr = "ignored";
    with_origin.credential = "ignored";
    with_origin.groups = {"ignored"};
    SCOPED_TRACE(i);
    expect_same_record(encode_event(with_origin), reference_encode_event(event));
  }
}

TEST(JournalEncodingTest, HashesRecordsAsBefore) {
  Random random(11);
  RecordHasher hasher;
  for (int i = 0; i < 2000; ++i) {
    EncodedEvent encoded = encode_event(random_event(random));
    encoded.record[Field::seq] = std::to_string(i + 1);
    encoded.record.prev_hash = i == 0 ? kGenesisHash : reference_sha256_hex(std::to_string(i));
    const std::string expected_form = reference_canonical_form(encoded.record);
    const std::string expected_hash = reference_sha256_hex(expected_form);
    SCOPED_TRACE(i);
    EXPECT_EQ(canonical_form(encoded.record), expected_form);
    EXPECT_EQ(record_hash(encoded.record), expected_hash);
    EXPECT_EQ(hasher.hash(encoded.record), expected_hash);
    EXPECT_EQ(hasher.sha256_hex(expected_form), expected_hash);
    EXPECT_EQ(sha256_hex(expected_form), expected_hash);
  }
}

TEST(JournalEncodingTest, HashesAFixedRecordToItsKnownHash) {
  // Computed with the Python script of docs/audit.md; it must never change.
  Record record;
  record[Field::seq] = "1";
  record[Field::id] = "s1.0.1";
  record[Field::time] = "2026-11-25T21:04:05.123456789Z";
  record[Field::instance] = "gw1";
  record[Field::event] = "connect";
  record[Field::subject] = "alice";
  record[Field::groups] = "[\"engineering\"]";
  record[Field::verdict] = "allow";
  record.prev_hash = kGenesisHash;
  const std::string expected = "b99b3750620e79f4b77b4f1df56117596ba828c0cd3f996eb9971ae34d13e056";
  EXPECT_EQ(record_hash(record), expected);
  RecordHasher hasher;
  EXPECT_EQ(hasher.hash(record), expected);
}

// The record of HashesAFixedRecordToItsKnownHash, every field of the first format spelt out.
Record fixed_connect_record() {
  Record record;
  record[Field::seq] = "1";
  record[Field::id] = "s1.0.1";
  record[Field::time] = "2026-11-25T21:04:05.123456789Z";
  record[Field::instance] = "gw1";
  record[Field::event] = "connect";
  record[Field::subject] = "alice";
  record[Field::groups] = "[\"engineering\"]";
  record[Field::verdict] = "allow";
  record.prev_hash = kGenesisHash;
  return record;
}

constexpr std::string_view kFixedConnectForm =
    "portcullis-audit-v1\n"
    "prev_hash:0000000000000000000000000000000000000000000000000000000000000000\n"
    "seq:1:1\nid:6:s1.0.1\ntime:30:2026-11-25T21:04:05.123456789Z\ninstance:3:gw1\n"
    "session:~\nevent:7:connect\nsubject:5:alice\nsubject_kind:~\n"
    "groups:15:[\"engineering\"]\nauth:~\nclient_addr:~\nconnection:~\nprotocol:~\n"
    "command:~\nparams:~\nfingerprint:~\nkinds:~\nclasses:~\nverdict:5:allow\nrule:~\n"
    "reviewer:~\nstatement:~\nrows:~\nbytes_in:~\nbytes_out:~\nmasked:~\nduration_us:~\n"
    "error:~\nresults_sha256:~\n";

TEST(JournalEncodingTest, LeavesAnAbsentCredentialOutOfTheCanonicalForm) {
  // A record written before the credential field existed: its form, and so its hash and
  // every hash chained after it, is what it was.
  const Record record = fixed_connect_record();
  EXPECT_EQ(canonical_form(record), kFixedConnectForm);
  EXPECT_EQ(record_hash(record),
            "b99b3750620e79f4b77b4f1df56117596ba828c0cd3f996eb9971ae34d13e056");
  EXPECT_EQ(to_json(record).find("credential"), std::string::npos);
}

TEST(JournalEncodingTest, HashesAPresentCredentialAfterTheOriginalFields) {
  // Hashes computed with the Python script of docs/audit.md.
  Record record = fixed_connect_record();
  record[Field::credential] = "ssh_key k-1a2b3c4d SHA256:AAAAC3NzaC1lZDI1NTE5AAAAIOvJ";
  EXPECT_EQ(canonical_form(record),
            std::string(kFixedConnectForm) +
                "credential:54:ssh_key k-1a2b3c4d SHA256:AAAAC3NzaC1lZDI1NTE5AAAAIOvJ\n");
  EXPECT_EQ(record_hash(record),
            "1bad6402a36f388631343f7cf8f0e384d8fe267794568d42fdc7677723945514");
  RecordHasher hasher;
  EXPECT_EQ(hasher.hash(record),
            "1bad6402a36f388631343f7cf8f0e384d8fe267794568d42fdc7677723945514");
  EXPECT_NE(to_json(record).find(
                R"("credential":"ssh_key k-1a2b3c4d SHA256:AAAAC3NzaC1lZDI1NTE5AAAAIOvJ")"),
            std::string::npos);
  // Present and empty is not absent: the hash tells them apart.
  record[Field::credential] = "";
  EXPECT_EQ(canonical_form(record), std::string(kFixedConnectForm) + "credential:0:\n");
  EXPECT_EQ(record_hash(record),
            "97cc15588daa9a6ac8be8983bb2e8a3d07f4a968d3d41524eb65a82b48fcb791");
}

TEST(JournalEncodingTest, RecordsTheSessionsCredentialOnlyWhenItHasOne) {
  EventOrigin origin;
  origin.session = "s1";
  origin.subject = "alice";
  origin.auth = "ssh_key";
  Event event;
  event.event = std::string(kEventConnect);
  event.origin = make_origin(origin);
  EXPECT_FALSE(encode_event(event).record[Field::credential].has_value());
  origin.credential = "ssh_key k-1 SHA256:x";
  event.origin = make_origin(origin);
  EXPECT_EQ(encode_event(event).record[Field::credential],
            std::optional<std::string>("ssh_key k-1 SHA256:x"));
  // In JSON it follows `auth`, whatever its place in the canonical form.
  EXPECT_NE(to_json(encode_event(event).record)
                .find(R"("auth":"ssh_key","credential":"ssh_key k-1 SHA256:x")"),
            std::string::npos)
      << to_json(encode_event(event).record);
}

}  // namespace
}  // namespace portcullis::audit
