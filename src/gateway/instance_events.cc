// InstanceEvents: publishing this instance's changes on the store's feed, and acting on the
// others' on the feed's thread.
#include "gateway/instance_events.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <set>

namespace portcullis::gateway {

Result<std::unique_ptr<InstanceEvents>> InstanceEvents::start(std::string_view state_url,
                                                              std::string instance,
                                                              InstanceEventsWiring wiring) {
  std::unique_ptr<InstanceEvents> events(new InstanceEvents(std::move(wiring)));
  InstanceEvents* self = events.get();
  auto feed = store::open_change_feed(
      state_url, std::move(instance), [self](const store::Change& c) { self->on_change(c); },
      [self] { self->on_resync(); });
  if (!feed) return feed.error();
  events->feed_ = std::move(*feed);
  events->wiring_.reviews->set_decided_hook(
      [self](const review::ReviewRecord& review) { self->review_decided(review); });
  return events;
}

InstanceEvents::~InstanceEvents() {
  wiring_.reviews->set_decided_hook({});  // waits for a call in progress
  feed_.reset();                          // joins the feed's thread before the wiring goes
}

void InstanceEvents::review_decided(const review::ReviewRecord& review) {
  if (auto r = publish("review", review.id); !r)
    spdlog::warn("event=instance_event_unsent kind=review review={} error=\"{}\"", review.id,
                 r.error().message);
}

Result<void> InstanceEvents::subject_revoked(const std::string& subject) {
  return publish("revoke", subject);
}

Result<void> InstanceEvents::end_elsewhere(const std::string& id) {
  return publish("kill", id);
}

Result<void> InstanceEvents::reload_elsewhere() {
  return publish("reload", "");
}

Result<void> InstanceEvents::publish(std::string_view kind, std::string_view value) {
  if (!feed_) return {};
  return feed_->publish(kind, value);
}

void InstanceEvents::on_change(const store::Change& change) {
  spdlog::info("event=instance_event kind={} from={:?} value={:?}", change.kind, change.instance,
               change.value);
  if (change.kind == "review") {
    wiring_.reviews->refresh(change.value);
  } else if (change.kind == "revoke") {
    const std::size_t ended = wiring_.live_sessions->end_subject(
        change.value,
        fmt::format("terminating connection: the credentials of {} were revoked", change.value));
    if (ended > 0)
      spdlog::warn("event=subject_revoked_elsewhere subject={:?} instance={:?} sessions_ended={}",
                   change.value, change.instance, ended);
  } else if (change.kind == "kill") {
    if (wiring_.live_sessions->end(
            change.value,
            fmt::format("terminating connection: ended through the REST API of instance {}",
                        change.instance)))
      spdlog::warn("event=session_killed_elsewhere session={} instance={:?}", change.value,
                   change.instance);
  } else if (change.kind == "reload") {
    if (wiring_.reload) wiring_.reload();
  }
}

// Word missed while the feed was down: reviews decided (their sessions still wait here) and
// revocations (their sessions still run here). A session that started at or before its
// subject's revocation holds credentials the revocation refuses.
void InstanceEvents::on_resync() {
  wiring_.reviews->refresh_watched();
  std::set<std::string> subjects;
  const auto sessions = wiring_.live_sessions->list();
  for (const auto& session : sessions) subjects.insert(session.subject);
  for (const auto& subject : subjects) {
    auto revocation = wiring_.store->find_revocation(subject);
    if (!revocation || !*revocation) continue;
    for (const auto& session : sessions)
      if (session.subject == subject && session.started <= (*revocation)->revoked_at)
        wiring_.live_sessions->end(
            session.id,
            fmt::format("terminating connection: the credentials of {} were revoked", subject));
  }
}

}  // namespace portcullis::gateway
