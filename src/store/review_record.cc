// Names of review kinds and statuses, as the store, the API and the journal spell them.
#include "store/review_record.h"

#include <array>
#include <utility>

namespace portcullis::store {
namespace {

constexpr std::array<std::pair<ReviewKind, std::string_view>, 2> kKinds{{
    {ReviewKind::statement, "statement"},
    {ReviewKind::access, "access"},
}};

constexpr std::array<std::pair<ReviewStatus, std::string_view>, 5> kStatuses{{
    {ReviewStatus::pending, "pending"},
    {ReviewStatus::approved, "approved"},
    {ReviewStatus::rejected, "rejected"},
    {ReviewStatus::expired, "expired"},
    {ReviewStatus::executed, "executed"},
}};

template <class E, std::size_t N>
std::string_view name_of(const std::array<std::pair<E, std::string_view>, N>& names, E value) {
  for (const auto& [e, name] : names)
    if (e == value) return name;
  return "unknown";
}

template <class E, std::size_t N>
std::optional<E> parse(const std::array<std::pair<E, std::string_view>, N>& names,
                       std::string_view text) {
  for (const auto& [e, name] : names)
    if (name == text) return e;
  return std::nullopt;
}

}  // namespace

std::string_view to_string(ReviewKind kind) {
  return name_of(kKinds, kind);
}
std::string_view to_string(ReviewStatus status) {
  return name_of(kStatuses, status);
}
std::optional<ReviewKind> parse_review_kind(std::string_view text) {
  return parse(kKinds, text);
}
std::optional<ReviewStatus> parse_review_status(std::string_view text) {
  return parse(kStatuses, text);
}

}  // namespace portcullis::store
