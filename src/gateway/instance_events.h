// InstanceEvents: what one gateway instance must tell the others sharing its PostgreSQL store,
// and what it does when told. A review decided here wakes the statement another instance
// holds; a revocation or a kill asked of any instance ends the sessions wherever they run; a
// reload can be asked of every instance at once. The word travels over the store's change
// feed (store/change_feed.h); after the feed reconnects, what may have been missed is read
// again from the store (watched reviews, revocations of live sessions). Kills asked while an
// instance was cut off from the store are lost: a kill is not kept in the store.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "common/result.h"
#include "gateway/live_sessions.h"
#include "review/reviews.h"
#include "store/change_feed.h"
#include "store/state_store.h"

namespace portcullis::gateway {

// Kept alive by InstanceEvents while its feed's thread may use them.
struct InstanceEventsWiring {
  store::StateStore* store = nullptr;           // required: revocations are read from it
  std::shared_ptr<review::Reviews> reviews;     // required; its decided hook is set
  std::shared_ptr<LiveSessions> live_sessions;  // required
  std::function<void()> reload;                 // reloads this instance's configuration
};

class InstanceEvents {
 public:
  // Starts listening when `state_url` is a shared store (PostgreSQL); with a store of its own
  // (SQLite) nothing is published or received, and every call below only acts here.
  static Result<std::unique_ptr<InstanceEvents>> start(std::string_view state_url,
                                                       std::string instance,
                                                       InstanceEventsWiring wiring);
  // Stops telling and listening before the reviews and sessions may go.
  ~InstanceEvents();
  InstanceEvents(const InstanceEvents&) = delete;
  InstanceEvents& operator=(const InstanceEvents&) = delete;

  // Whether other instances may share the store (and so be told).
  bool shared() const { return feed_ != nullptr; }
  // False while a shared store's feed is disconnected.
  bool listening() const { return feed_ == nullptr || feed_->listening(); }

  // This instance decided or expired `review`: tell the others (Reviews' decided hook, set by
  // start()).
  void review_decided(const review::ReviewRecord& review);
  // `subject` was revoked (stored already) here: the others end its sessions.
  Result<void> subject_revoked(const std::string& subject);
  // Session `id` is not one of this instance's: ask the others to end it.
  Result<void> end_elsewhere(const std::string& id);
  // Ask every other instance to reload its configuration.
  Result<void> reload_elsewhere();

 private:
  explicit InstanceEvents(InstanceEventsWiring wiring) : wiring_(std::move(wiring)) {}
  void on_change(const store::Change& change);
  void on_resync();
  Result<void> publish(std::string_view kind, std::string_view value);

  InstanceEventsWiring wiring_;
  std::unique_ptr<store::ChangeFeed> feed_;  // last: its thread calls the members above
};

}  // namespace portcullis::gateway
