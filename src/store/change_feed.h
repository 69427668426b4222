// ChangeFeed: word of what one gateway instance changed, for the other instances that share
// its PostgreSQL store: a review decided (the instance holding the statement releases it), a
// subject revoked or a session to end (whichever instance serves it ends it), a reload asked
// for. Carried by PostgreSQL's LISTEN/NOTIFY on a connection of its own that reconnects by
// itself; word sent while an instance was disconnected is lost, so after every reconnect the
// instance is told to re-read the state it acts on (`Resync`).
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "common/result.h"

namespace portcullis::store {

struct Change {
  std::string instance;  // the instance that made it (never this one: its own are not delivered)
  std::string kind;      // "review", "revoke", "kill", "reload"
  std::string value;     // the review id, subject, session id; empty for a reload
};

class ChangeFeed {
 public:
  // Called on the feed's thread, one change at a time; must not block for long.
  using Handler = std::function<void(const Change&)>;
  // Called on the feed's thread after each (re)connection, before any change it delivers.
  using Resync = std::function<void()>;

  virtual ~ChangeFeed() = default;
  // Tells the other instances (not this one). Error code "unavailable" when the store
  // cannot take it; "invalid" for a kind or value the feed cannot carry.
  virtual Result<void> publish(std::string_view kind, std::string_view value) = 0;
  // Whether the feed listens now: false from a lost connection until it is back.
  virtual bool listening() const = 0;
};

// The feed of a PostgreSQL state URL, listening on a thread of its own until destroyed; null
// for a store one instance has to itself (sqlite://), where there is nobody to tell.
Result<std::unique_ptr<ChangeFeed>> open_change_feed(std::string_view url, std::string instance,
                                                     ChangeFeed::Handler on_change,
                                                     ChangeFeed::Resync on_resync);

}  // namespace portcullis::store
