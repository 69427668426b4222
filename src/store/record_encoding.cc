// Times and lists of records as the state stores keep them.
#include "store/record_encoding.h"

#include <boost/json/array.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <chrono>
#include <system_error>

namespace portcullis::store {

int64_t to_millis(TimePoint t) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count();
}

TimePoint from_millis(int64_t ms) {
  return TimePoint(std::chrono::duration_cast<TimePoint::duration>(std::chrono::milliseconds(ms)));
}

std::string groups_to_json(const std::vector<std::string>& groups) {
  boost::json::array array;
  for (const auto& group : groups) array.emplace_back(group);
  return boost::json::serialize(array);
}

std::vector<std::string> groups_from_json(std::string_view text) {
  std::vector<std::string> groups;
  boost::system::error_code ec;
  const auto value = boost::json::parse(text, ec);
  if (ec || !value.is_array()) return groups;
  for (const auto& item : value.get_array())
    if (item.is_string()) groups.emplace_back(item.get_string());
  return groups;
}

}  // namespace portcullis::store
