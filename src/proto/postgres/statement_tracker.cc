// Prepared statement and portal bookkeeping for the extended query protocol, confirmed by
// the backend's answers.
#include "proto/postgres/statement_tracker.h"

namespace portcullis::proto::postgres {

void StatementTracker::on_parse(const Parse& parse) {
  pending_.push_back(PendingOp{OpKind::parse, std::string(parse.statement),
                               std::make_shared<const std::string>(parse.query), std::nullopt});
}

void StatementTracker::on_bind(const Bind& bind) {
  PendingOp op{OpKind::bind, std::string(bind.portal), nullptr, std::nullopt};
  if (auto text = statement(bind.statement)) {
    PortalState portal;
    portal.statement.assign(bind.statement);
    portal.text = std::move(text);
    portal.params = parameters_text(bind.parameters, bind.parameter_formats);
    for (const auto format : bind.parameter_formats) portal.binary_params |= format == 1;
    op.portal = std::move(portal);
  }
  pending_.push_back(std::move(op));
}

void StatementTracker::on_close(const DescribeOrClose& close) {
  pending_.push_back(PendingOp{close.target == 'P' ? OpKind::close_portal : OpKind::close_statement,
                               std::string(close.name), nullptr, std::nullopt});
}

void StatementTracker::on_sync_point() {
  pending_.push_back(PendingOp{OpKind::sync_point, {}, nullptr, std::nullopt});
}

std::optional<StatementTracker::PendingOp> StatementTracker::pop_expected(OpKind first,
                                                                          OpKind second) {
  if (pending_.empty()) return std::nullopt;
  const OpKind kind = pending_.front().kind;
  if (kind != first && kind != second) return std::nullopt;
  PendingOp op = std::move(pending_.front());
  pending_.pop_front();
  return op;
}

bool StatementTracker::on_parse_complete() {
  auto op = pop_expected(OpKind::parse, OpKind::parse);
  if (!op) return false;
  statements_.insert_or_assign(std::move(op->name), std::move(op->text));
  return true;
}

bool StatementTracker::on_bind_complete() {
  auto op = pop_expected(OpKind::bind, OpKind::bind);
  if (!op) return false;
  // A portal whose statement the gateway did not know (one made with SQL PREPARE, say)
  // stays unknown: its Execute is refused rather than run unjudged.
  if (op->portal)
    portals_.insert_or_assign(std::move(op->name), std::move(*op->portal));
  else
    portals_.erase(op->name);
  return true;
}

bool StatementTracker::on_close_complete() {
  auto op = pop_expected(OpKind::close_statement, OpKind::close_portal);
  if (!op) return false;
  // Portals keep the text they were bound with: PostgreSQL's portals outlive the
  // statement they came from.
  if (op->kind == OpKind::close_portal)
    portals_.erase(op->name);
  else
    statements_.erase(op->name);
  return true;
}

void StatementTracker::on_error() {
  while (!pending_.empty() && pending_.front().kind != OpKind::sync_point) pending_.pop_front();
}

void StatementTracker::on_ready_for_query() {
  while (!pending_.empty()) {
    const bool marker = pending_.front().kind == OpKind::sync_point;
    pending_.pop_front();
    if (marker) break;
  }
}

bool StatementTracker::has_unconfirmed_earlier_batches() const {
  auto last_marker = pending_.rend();
  for (auto it = pending_.rbegin(); it != pending_.rend(); ++it)
    if (it->kind == OpKind::sync_point) {
      last_marker = it;
      break;
    }
  if (last_marker == pending_.rend()) return false;
  for (auto it = last_marker; it != pending_.rend(); ++it)
    if (it->kind != OpKind::sync_point) return true;
  return false;
}

void StatementTracker::drop_first_sync_point() {
  for (auto it = pending_.begin(); it != pending_.end(); ++it)
    if (it->kind == OpKind::sync_point) {
      pending_.erase(it);
      return;
    }
}

std::shared_ptr<const std::string> StatementTracker::statement(std::string_view name) const {
  for (auto it = pending_.rbegin(); it != pending_.rend(); ++it) {
    if (it->name != name) continue;
    if (it->kind == OpKind::parse) return it->text;
    if (it->kind == OpKind::close_statement) return nullptr;
  }
  const auto found = statements_.find(std::string(name));
  return found == statements_.end() ? nullptr : found->second;
}

const PortalState* StatementTracker::portal(std::string_view name) const {
  for (auto it = pending_.rbegin(); it != pending_.rend(); ++it) {
    if (it->name != name) continue;
    if (it->kind == OpKind::bind) return it->portal ? &*it->portal : nullptr;
    if (it->kind == OpKind::close_portal) return nullptr;
  }
  const auto found = portals_.find(std::string(name));
  return found == portals_.end() ? nullptr : &found->second;
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

std::vector<std::optional<std::string>> parameters_text(
    const std::vector<std::optional<std::string_view>>& values,
    const std::vector<int16_t>& formats) {
  std::vector<std::optional<std::string>> out;
  out.reserve(values.size());
  for (std::size_t i = 0; i < values.size(); ++i) {
    if (!values[i]) {
      out.emplace_back();
      continue;
    }
    // The decoder has checked that a list of several codes has one per value.
    const int16_t format = formats.empty() ? 0 : formats.size() == 1 ? formats[0] : formats[i];
    out.emplace_back(parameter_text(*values[i], format == 1));
  }
  return out;
}

}  // namespace portcullis::proto::postgres
