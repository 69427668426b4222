// Secret redaction and masking over the tree of one JSON document.
#include "proto/kubernetes/json_masking.h"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <boost/json.hpp>
#include <boost/json/basic_parser_impl.hpp>
#include <cstdint>
#include <optional>
#include <vector>

namespace portcullis::proto::kubernetes {
namespace {

namespace json = boost::json;

constexpr std::string_view kLastAppliedAnnotation =
    "kubectl.kubernetes.io/last-applied-configuration";

// Strings kubectl needs as the server sent them, to name, find, order and page through objects
// and to follow a watch; they are left unmasked wherever they appear. Short on purpose: every
// entry is a place where masking does not look.
constexpr std::array<std::string_view, 11> kIdentityKeys = {"apiVersion",
                                                            "kind",
                                                            "name",
                                                            "namespace",
                                                            "uid",
                                                            "resourceVersion",
                                                            "creationTimestamp",
                                                            "deletionTimestamp",
                                                            "generateName",
                                                            "selfLink",
                                                            "continue"};

bool is_identity_key(std::string_view key) {
  return std::find(kIdentityKeys.begin(), kIdentityKeys.end(), key) != kIdentityKeys.end();
}

std::string_view as_view(const json::string& s) {
  return {s.data(), s.size()};
}

std::string_view string_member(const json::object& object, std::string_view key) {
  const auto* member = object.if_contains(key);
  return member && member->is_string() ? as_view(member->get_string()) : std::string_view();
}

// The standard base64 of a Secret's `data` values (padded, no line breaks), or nothing when
// `text` is not that.
std::optional<std::string> decode_base64(std::string_view text) {
  if (text.size() % 4 != 0) return std::nullopt;
  std::string out;
  out.reserve(text.size() / 4 * 3);
  uint32_t bits = 0;
  int bit_count = 0;
  std::size_t padding = 0;
  for (const char c : text) {
    int sextet;
    if (c >= 'A' && c <= 'Z') {
      sextet = c - 'A';
    } else if (c >= 'a' && c <= 'z') {
      sextet = c - 'a' + 26;
    } else if (c >= '0' && c <= '9') {
      sextet = c - '0' + 52;
    } else if (c == '+') {
      sextet = 62;
    } else if (c == '/') {
      sextet = 63;
    } else if (c == '=' && padding < 2) {
      ++padding;
      continue;
    } else {
      return std::nullopt;
    }
    if (padding > 0) return std::nullopt;  // text after the padding
    bits = (bits << 6) | static_cast<uint32_t>(sextet);
    bit_count += 6;
    if (bit_count >= 8) {
      bit_count -= 8;
      out.push_back(static_cast<char>((bits >> bit_count) & 0xff));
    }
  }
  return out;
}

// Builds the tree as boost::json::parser does, and counts the members the text holds: where an
// object repeats a key the tree keeps only the last value, while another reader of the same
// bytes may take the first. Such a document is never passed on as it came.
class CountingHandler {
 public:
  static constexpr std::size_t max_object_size = json::object::max_size();
  static constexpr std::size_t max_array_size = json::array::max_size();
  static constexpr std::size_t max_key_size = json::string::max_size();
  static constexpr std::size_t max_string_size = json::string::max_size();

  CountingHandler() { stack.reset(); }

  bool on_document_begin(json::error_code&) { return true; }
  bool on_document_end(json::error_code&) { return true; }
  bool on_object_begin(json::error_code&) { return true; }
  bool on_object_end(std::size_t n, json::error_code&) {
    members += n;
    stack.push_object(n);
    return true;
  }
  bool on_array_begin(json::error_code&) { return true; }
  bool on_array_end(std::size_t n, json::error_code&) {
    stack.push_array(n);
    return true;
  }
  bool on_key_part(json::string_view s, std::size_t, json::error_code&) {
    stack.push_chars(s);
    return true;
  }
  bool on_key(json::string_view s, std::size_t, json::error_code&) {
    stack.push_key(s);
    return true;
  }
  bool on_string_part(json::string_view s, std::size_t, json::error_code&) {
    stack.push_chars(s);
    return true;
  }
  bool on_string(json::string_view s, std::size_t, json::error_code&) {
    stack.push_string(s);
    return true;
  }
  bool on_number_part(json::string_view, json::error_code&) { return true; }
  bool on_int64(std::int64_t i, json::string_view, json::error_code&) {
    stack.push_int64(i);
    return true;
  }
  bool on_uint64(std::uint64_t u, json::string_view, json::error_code&) {
    stack.push_uint64(u);
    return true;
  }
  bool on_double(double d, json::string_view, json::error_code&) {
    stack.push_double(d);
    return true;
  }
  bool on_bool(bool b, json::error_code&) {
    stack.push_bool(b);
    return true;
  }
  bool on_null(json::error_code&) {
    stack.push_null();
    return true;
  }
  bool on_comment_part(json::string_view, json::error_code&) { return true; }
  bool on_comment(json::string_view, json::error_code&) { return true; }

  json::value_stack stack;
  std::size_t members = 0;
};

struct ParsedDocument {
  json::value root;
  std::size_t members_in_text = 0;
};

Result<ParsedDocument> parse_document(std::string_view text) {
  json::parse_options options;
  options.max_depth = kMaxJsonDepth;
  json::basic_parser<CountingHandler> parser(options);
  json::error_code ec;
  const auto used = parser.write_some(false, text.data(), text.size(), ec);
  if (!ec && used < text.size()) ec = json::error::extra_data;
  if (ec == json::error::too_deep) {
    return make_error(fmt::format("the response body nests deeper than {} levels", kMaxJsonDepth));
  }
  if (ec) return make_error(fmt::format("the response body is not JSON: {}", ec.message()));
  return ParsedDocument{.root = parser.handler().stack.release(),
                        .members_in_text = parser.handler().members};
}

std::size_t count_members(const json::value& value) {
  std::size_t n = 0;
  if (const auto* object = value.if_object()) {
    n += object->size();
    for (const auto& member : *object) n += count_members(member.value());
  } else if (const auto* array = value.if_array()) {
    for (const auto& element : *array) n += count_members(element);
  }
  return n;
}

class BodyRewriter {
 public:
  BodyRewriter(const BodyRules& rules, masking::Scratch& scratch, BodyCounts& counts)
      : rules_(rules),
        masker_(rules.masker && rules.masker->active() ? rules.masker : nullptr),
        scratch_(scratch),
        counts_(counts) {
    if (masker_) plan_ = masker_->plan_text();
  }

  bool changed() const { return changed_; }

  // An object where an API object stands: the document, a list's item, a Table row's object,
  // a watch event's object. `is_secret`: its container says it is a Secret. Returns the values
  // of the Secret it was, for the Table row that holds it.
  std::vector<std::string> resource(json::value& value, bool is_secret) {
    auto* object = value.if_object();
    if (!object) {
      content(value);
      return {};
    }
    const auto kind = string_member(*object, "kind");
    is_secret = is_secret || rules_.all_secrets || kind == "Secret";
    std::vector<std::string_view> handled;  // members already masked as what they are

    auto* items = object->if_contains("items");
    auto* rows = object->if_contains("rows");
    auto* event_object = object->if_contains("object");
    if (kind.ends_with("List") && items && items->is_array()) {
      // A SecretList's items carry no kind of their own.
      const bool items_are_secrets = is_secret || kind == "SecretList";
      for (auto& item : items->get_array()) resource(item, items_are_secrets);
      handled.push_back("items");
    } else if (kind == "Table" && rows && rows->is_array()) {
      for (auto& row : rows->get_array()) table_row(row, is_secret);
      handled.push_back("rows");
    } else if ((kind.empty() || kind == "WatchEvent") && event_object &&
               event_object->is_object() && !string_member(*object, "type").empty()) {
      resource(*event_object, is_secret);
      handled.push_back("object");
      handled.push_back("type");  // ADDED, MODIFIED, DELETED, BOOKMARK, ERROR
    }

    std::vector<std::string> secret_values;
    if (is_secret && rules_.redact_secrets) {
      secret_values = redact_secret(*object);
      handled.push_back("data");
      handled.push_back("stringData");
    }
    content_members(*object, handled);
    return secret_values;
  }

 private:
  void table_row(json::value& row, bool is_secret) {
    auto* object = row.if_object();
    if (!object) {
      content(row);
      return;
    }
    std::vector<std::string_view> handled;
    std::vector<std::string> secret_values;
    std::string_view row_name;
    if (auto* row_object = object->if_contains("object")) {
      secret_values = resource(*row_object, is_secret);
      handled.push_back("object");
      if (const auto* o = row_object->if_object()) {
        if (const auto* metadata = o->if_contains("metadata"); metadata && metadata->is_object())
          row_name = string_member(metadata->get_object(), "name");
      }
    }
    // The cells print fields of the object; a printer column may show a Secret's value. The
    // cell that is the object's name is kept, as kubectl needs it.
    if (auto* cells = object->if_contains("cells"); cells && !secret_values.empty()) {
      if (auto* cell_array = cells->if_array()) {
        for (auto& cell : *cell_array) {
          if (cell.is_string() && as_view(cell.get_string()) == row_name) continue;
          redact_echoes(cell, secret_values);
        }
      }
    }
    content_members(*object, handled);
  }

  // Redacts a Secret's values and their copies; returns the values found.
  std::vector<std::string> redact_secret(json::object& secret) {
    std::vector<std::string> values;
    if (auto* data = secret.if_contains("data")) redact_values(*data, kRedactedBase64, values);
    if (auto* string_data = secret.if_contains("stringData"))
      redact_values(*string_data, kRedacted, values);
    if (auto* metadata = secret.if_contains("metadata"); metadata && metadata->is_object()) {
      if (auto* annotations = metadata->get_object().if_contains("annotations");
          annotations && annotations->is_object()) {
        for (auto& annotation : annotations->get_object()) {
          const std::string_view key = annotation.key();
          if (key == kLastAppliedAnnotation || holds_serialised_secret(annotation.value()))
            redact(annotation.value(), kRedacted);
        }
      }
    }
    std::erase_if(values, [](const std::string& v) { return v.size() < kMinEchoedValue; });
    if (!values.empty()) {
      for (auto& member : secret) {
        const std::string_view key = member.key();
        if (key == "data" || key == "stringData") continue;
        redact_echoes(member.value(), values);
      }
    }
    return values;
  }

  static bool holds_serialised_secret(const json::value& annotation) {
    if (!annotation.is_string()) return false;
    const auto text = as_view(annotation.get_string());
    return text.find("\"data\"") != std::string_view::npos ||
           text.find("\"stringData\"") != std::string_view::npos;
  }

  // Every value of `container` (an object's members, an array's elements, or itself) becomes
  // `placeholder`; the strings it held are added to `values`, and their base64 decoding.
  void redact_values(json::value& container, std::string_view placeholder,
                     std::vector<std::string>& values) {
    auto redact_one = [&](json::value& value) {
      if (value.is_string()) {
        const auto text = as_view(value.get_string());
        if (text == placeholder) return;
        values.emplace_back(text);
        if (auto decoded = decode_base64(text)) values.push_back(std::move(*decoded));
      }
      redact(value, placeholder);
    };
    if (auto* object = container.if_object()) {
      for (auto& member : *object) redact_one(member.value());
    } else if (auto* array = container.if_array()) {
      for (auto& element : *array) redact_one(element);
    } else {
      redact_one(container);
    }
  }

  void redact(json::value& value, std::string_view placeholder) {
    if (value.is_null()) return;
    if (value.is_string() && as_view(value.get_string()) == placeholder) return;
    value = json::string(placeholder);
    ++counts_.secret_values;
    changed_ = true;
  }

  // Strings under `value` that contain one of `values` become kRedacted; names are kept.
  void redact_echoes(json::value& value, const std::vector<std::string>& values) {
    if (auto* text = value.if_string()) {
      const auto view = as_view(*text);
      for (const auto& secret_value : values) {
        if (view.find(secret_value) != std::string_view::npos) {
          redact(value, kRedacted);
          return;
        }
      }
    } else if (auto* array = value.if_array()) {
      for (auto& element : *array) redact_echoes(element, values);
    } else if (auto* object = value.if_object()) {
      for (auto& member : *object) {
        const std::string_view key = member.key();
        if (member.value().is_string() && is_identity_key(key)) continue;
        redact_echoes(member.value(), values);
      }
    }
  }

  void content(json::value& value) {
    if (!masker_) return;
    if (value.is_string()) {
      mask_string(value);
    } else if (auto* array = value.if_array()) {
      for (auto& element : *array) content(element);
    } else if (auto* object = value.if_object()) {
      content_members(*object, {});
    }
  }

  void content_members(json::object& object, const std::vector<std::string_view>& handled) {
    if (!masker_) return;
    for (auto& member : object) {
      const std::string_view key = member.key();
      if (std::find(handled.begin(), handled.end(), key) != handled.end()) continue;
      if (member.value().is_string() && is_identity_key(key)) continue;
      content(member.value());
    }
  }

  void mask_string(json::value& value) {
    if (!masker_->mask_value(as_view(value.get_string()), plan_, result_, scratch_, counts_.masked))
      return;
    changed_ = true;
    if (result_.kind == masking::MaskResult::Kind::null) {
      value = nullptr;
    } else {
      value = json::string(result_.bytes);
    }
  }

  const BodyRules& rules_;
  const masking::Masker* masker_;
  masking::Scratch& scratch_;
  BodyCounts& counts_;
  masking::ColumnPlan plan_;
  masking::MaskResult result_;
  bool changed_ = false;
};

}  // namespace

Result<std::string> mask_json_document(std::string_view json, const BodyRules& rules,
                                       masking::Scratch& scratch, BodyCounts& counts) {
  auto parsed = parse_document(json);
  if (!parsed) return parsed.error();
  BodyRewriter rewriter(rules, scratch, counts);
  rewriter.resource(parsed->root, false);
  if (!rewriter.changed() && count_members(parsed->root) == parsed->members_in_text)
    return std::string(json);
  return boost::json::serialize(parsed->root);
}

}  // namespace portcullis::proto::kubernetes
