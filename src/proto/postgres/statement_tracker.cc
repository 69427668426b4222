// Prepared statement and portal bookkeeping for the extended query protocol.
#include "proto/postgres/statement_tracker.h"

namespace portcullis::proto::postgres {

void StatementTracker::on_parse(const Parse& parse) {
  auto& text = statements_[std::string(parse.statement)];
  text.assign(parse.query);
  // A portal may still point at the old text of a re-parsed unnamed statement; PostgreSQL
  // drops such portals too, so do the same.
  if (parse.statement.empty()) {
    for (auto it = portals_.begin(); it != portals_.end();)
      it = it->second.statement.empty() ? portals_.erase(it) : std::next(it);
  }
}

bool StatementTracker::on_bind(const Bind& bind) {
  const auto statement = statements_.find(std::string(bind.statement));
  if (statement == statements_.end()) return false;
  PortalState portal;
  portal.statement.assign(bind.statement);
  portal.text = &statement->second;
  portal.params.reserve(bind.parameters.size());
  for (std::size_t i = 0; i < bind.parameters.size(); ++i) {
    const auto& value = bind.parameters[i];
    if (!value) {
      portal.params.emplace_back();
      continue;
    }
    const int16_t format = bind.parameter_formats.empty()       ? 0
                           : bind.parameter_formats.size() == 1 ? bind.parameter_formats[0]
                                                                : bind.parameter_formats[i];
    portal.params.emplace_back(parameter_text(*value, format == 1));
  }
  portals_.insert_or_assign(std::string(bind.portal), std::move(portal));
  return true;
}

void StatementTracker::on_close(const DescribeOrClose& close) {
  if (close.target == 'P') {
    portals_.erase(std::string(close.name));
    return;
  }
  const std::string name(close.name);
  for (auto it = portals_.begin(); it != portals_.end();)
    it = it->second.statement == name ? portals_.erase(it) : std::next(it);
  statements_.erase(name);
}

const std::string* StatementTracker::statement_text(std::string_view name) const {
  const auto it = statements_.find(std::string(name));
  return it == statements_.end() ? nullptr : &it->second;
}

const PortalState* StatementTracker::portal(std::string_view name) const {
  const auto it = portals_.find(std::string(name));
  return it == portals_.end() ? nullptr : &it->second;
}

std::string parameter_text(std::string_view value, bool binary) {
  if (!binary) return std::string(value);
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out = "\\x";
  out.reserve(2 + value.size() * 2);
  for (unsigned char c : value) {
    out.push_back(kHex[c >> 4]);
    out.push_back(kHex[c & 0xf]);
  }
  return out;
}

}  // namespace portcullis::proto::postgres
