// libFuzzer target for the masking of Kubernetes API response bodies
// (proto/kubernetes/json_masking): the first byte chooses the rules, the rest is the body.
// Checked: an accepted body comes out as JSON; on the `secrets` resource without the
// `secrets` class, no string of 8 bytes or more that the body's API objects held in `data` or
// `stringData` is left in a string of the output (names kubectl needs and the placeholders
// aside), and a second pass changes nothing; without rules the body reads the same.
#include <boost/json.hpp>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "masking/detector.h"
#include "masking/masker.h"
#include "proto/kubernetes/json_masking.h"

namespace {

using namespace portcullis;
using proto::kubernetes::BodyCounts;
using proto::kubernetes::BodyRules;
namespace json = boost::json;

// A value shorter than this may be a placeholder's substring or a word kubectl needs.
constexpr std::size_t kMinCheckedValue = 8;

std::shared_ptr<const masking::Masker> make() {
  config::MaskingProfileConfig p;
  p.name = "fuzz";
  p.detectors.assign(masking::kBuiltinDetectorNames.begin(), masking::kBuiltinDetectorNames.end());
  return *masking::Masker::build(p, Secret("fuzz-key"));
}

std::string_view view(const json::string& s) {
  return {s.data(), s.size()};
}

bool is_identity_key(std::string_view key) {
  for (std::string_view k :
       {"apiVersion", "kind", "name", "namespace", "uid", "resourceVersion", "creationTimestamp",
        "deletionTimestamp", "generateName", "selfLink", "continue"}) {
    if (key == k) return true;
  }
  return false;
}

// The direct string values of the `data` and `stringData` of every API object of the body, as
// the Kubernetes documents nest them (lists, Tables, watch events), written here on its own.
void secret_values(const json::value& value, std::vector<std::string>& out) {
  const auto* object = value.if_object();
  if (!object) return;
  const auto* kind_value = object->if_contains("kind");
  const std::string_view kind =
      kind_value && kind_value->is_string() ? view(kind_value->get_string()) : "";
  const auto* items = object->if_contains("items");
  const auto* rows = object->if_contains("rows");
  const auto* event = object->if_contains("object");
  const auto* type = object->if_contains("type");
  if (kind.ends_with("List") && items && items->is_array()) {
    for (const auto& item : items->get_array()) secret_values(item, out);
  } else if (kind == "Table" && rows && rows->is_array()) {
    for (const auto& row : rows->get_array()) {
      if (const auto* r = row.if_object(); r && r->contains("object"))
        secret_values(r->at("object"), out);
    }
  } else if ((kind.empty() || kind == "WatchEvent") && event && event->is_object() && type &&
             type->is_string() && !type->get_string().empty()) {
    secret_values(*event, out);
  }
  for (std::string_view field : {"data", "stringData"}) {
    const auto* values = object->if_contains(field);
    if (!values) continue;
    auto take = [&](const json::value& v) {
      if (v.is_string() && v.get_string().size() >= kMinCheckedValue)
        out.emplace_back(view(v.get_string()));
    };
    if (const auto* o = values->if_object()) {
      for (const auto& member : *o) take(member.value());
    } else if (const auto* a = values->if_array()) {
      for (const auto& element : *a) take(element);
    } else {
      take(*values);
    }
  }
}

// The output's string values that may not hold a Secret's value, and the names it keeps.
void output_strings(const json::value& value, std::vector<std::string_view>& strings,
                    std::vector<std::string_view>& names) {
  if (const auto* s = value.if_string()) {
    strings.push_back(view(*s));
  } else if (const auto* a = value.if_array()) {
    for (const auto& element : *a) output_strings(element, strings, names);
  } else if (const auto* o = value.if_object()) {
    for (const auto& member : *o) {
      if (member.value().is_string() && is_identity_key(member.key())) {
        names.push_back(view(member.value().get_string()));
        continue;
      }
      output_strings(member.value(), strings, names);
    }
  }
}

bool is_kept_word(std::string_view s, const std::vector<std::string_view>& names) {
  if (s == proto::kubernetes::kRedacted || s == proto::kubernetes::kRedactedBase64) return true;
  for (std::string_view word : {"ADDED", "MODIFIED", "DELETED", "BOOKMARK", "ERROR"}) {
    if (s == word) return true;
  }
  for (const auto name : names) {
    if (s == name) return true;  // a Table row's name cell
  }
  return false;
}

json::value parse_or_trap(std::string_view text) {
  json::parse_options options;
  options.max_depth = proto::kubernetes::kMaxJsonDepth;
  boost::system::error_code ec;
  auto value = json::parse(text, ec, {}, options);
  if (ec) __builtin_trap();
  return value;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  static const auto masker = make();
  static masking::Scratch scratch;
  const uint8_t choice = data[0];
  const std::string_view body(reinterpret_cast<const char*>(data + 1), size - 1);

  // The profile's masking, with or without Secrets redacted: an answer is JSON.
  {
    BodyCounts counts;
    const BodyRules rules{.redact_secrets = (choice & 1) != 0,
                          .all_secrets = (choice & 2) != 0,
                          .masker = masker.get()};
    auto out = proto::kubernetes::mask_json_document(body, rules, scratch, counts);
    if (!out.ok()) return 0;  // not JSON, or too deep: every other rule refuses it too
    parse_or_trap(*out);
  }

  // Nothing to do: the same document. One with a repeated key is written out again with one
  // value per key: the same document as the parser read it, whose numbers are doubles that
  // Boost.JSON 1.81 reads to within an ulp, so it is compared with the same parse written out.
  {
    BodyCounts counts;
    auto out = proto::kubernetes::mask_json_document(body, BodyRules{.redact_secrets = false},
                                                     scratch, counts);
    if (!out.ok()) __builtin_trap();
    const auto read = parse_or_trap(body);
    if (*out != body && parse_or_trap(*out) != parse_or_trap(json::serialize(read)))
      __builtin_trap();
    if (*out == body && parse_or_trap(*out) != read) __builtin_trap();
  }

  // The `secrets` resource for a grant without `secrets`.
  const BodyRules secrets{.redact_secrets = true, .all_secrets = true};
  BodyCounts counts;
  auto once = proto::kubernetes::mask_json_document(body, secrets, scratch, counts);
  if (!once.ok()) __builtin_trap();
  std::vector<std::string> values;
  secret_values(parse_or_trap(body), values);
  if (!values.empty()) {
    const auto out = parse_or_trap(*once);
    std::vector<std::string_view> strings, names;
    output_strings(out, strings, names);
    for (const auto s : strings) {
      if (is_kept_word(s, names)) continue;
      for (const auto& value : values) {
        if (s.find(value) != std::string_view::npos) __builtin_trap();
      }
    }
  }
  BodyCounts again;
  auto twice = proto::kubernetes::mask_json_document(*once, secrets, scratch, again);
  if (!twice.ok() || *twice != *once || again.secret_values != 0) __builtin_trap();
  return 0;
}
