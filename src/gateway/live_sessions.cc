// The registry of live sessions.
#include "gateway/live_sessions.h"

namespace portcullis::gateway {

std::unique_ptr<LiveSessions::Registration> LiveSessions::add(std::shared_ptr<LiveSession> session,
                                                              Ender end) {
  {
    std::lock_guard lock(mutex_);
    sessions_[session->id] = Entry{session, std::move(end)};
  }
  return std::make_unique<Registration>(*this, std::move(session));
}

void LiveSessions::remove(const std::string& id) {
  std::lock_guard lock(mutex_);
  sessions_.erase(id);
}

std::vector<LiveSessionView> LiveSessions::list() const {
  std::lock_guard lock(mutex_);
  std::vector<LiveSessionView> views;
  views.reserve(sessions_.size());
  for (const auto& [id, entry] : sessions_) {
    const auto& s = *entry.session;
    views.push_back(LiveSessionView{s.id, s.subject, s.protocol, s.connection, s.client_addr,
                                    s.started, s.commands.load(std::memory_order_relaxed),
                                    s.bytes_in.load(std::memory_order_relaxed),
                                    s.bytes_out.load(std::memory_order_relaxed), s.held_review()});
  }
  return views;
}

bool LiveSessions::end(const std::string& id, const std::string& reason) {
  Ender ender;
  {
    std::lock_guard lock(mutex_);
    auto it = sessions_.find(id);
    if (it == sessions_.end()) return false;
    ender = it->second.end;
  }
  // Called without the lock: the session's thread may be removing itself meanwhile.
  ender(reason);
  return true;
}

std::string LiveSessions::held_review_of_client(std::string_view client_addr) const {
  std::lock_guard lock(mutex_);
  for (const auto& [id, entry] : sessions_)
    if (entry.session->client_addr == client_addr) return entry.session->held_review();
  return {};
}

std::size_t LiveSessions::end_subject(const std::string& subject, const std::string& reason) {
  std::vector<Ender> enders;
  {
    std::lock_guard lock(mutex_);
    for (const auto& [id, entry] : sessions_)
      if (entry.session->subject == subject) enders.push_back(entry.end);
  }
  for (auto& ender : enders) ender(reason);
  return enders.size();
}

std::map<std::string, std::size_t> LiveSessions::count_by_protocol() const {
  std::lock_guard lock(mutex_);
  std::map<std::string, std::size_t> counts;
  for (const auto& [id, entry] : sessions_) ++counts[entry.session->protocol];
  return counts;
}

}  // namespace portcullis::gateway
