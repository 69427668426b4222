// LiveSessions: every client session in progress, across protocols and I/O threads, so that
// responders can list them, end one, or end every session of a subject at once.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

namespace portcullis::gateway {

// What a session shows about itself. The counters are updated by the session's thread and
// read by any.
struct LiveSession {
  std::string id;
  std::string subject;
  std::string protocol;
  std::string connection;
  std::string client_addr;
  std::chrono::system_clock::time_point started;
  std::atomic<std::uint64_t> commands{0};
  std::atomic<std::uint64_t> bytes_in{0};
  std::atomic<std::uint64_t> bytes_out{0};

  void set_held_review(std::string review) {
    std::lock_guard lock(mutex_);
    held_review_ = std::move(review);
  }
  std::string held_review() const {
    std::lock_guard lock(mutex_);
    return held_review_;
  }

 private:
  mutable std::mutex mutex_;
  std::string held_review_;  // the review a held statement waits for; empty when none
};

// A copy of a LiveSession for listing.
struct LiveSessionView {
  std::string id;
  std::string subject;
  std::string protocol;
  std::string connection;
  std::string client_addr;
  std::chrono::system_clock::time_point started;
  std::uint64_t commands = 0;
  std::uint64_t bytes_in = 0;
  std::uint64_t bytes_out = 0;
  std::string held_review;
};

class LiveSessions {
 public:
  // Ends the session with `reason` shown to its client; callable from any thread (it posts to
  // the session's own), and harmless once the session is gone.
  using Ender = std::function<void(std::string reason)>;

  // Removes the session from the registry when destroyed.
  class Registration {
   public:
    Registration(LiveSessions& owner, std::shared_ptr<LiveSession> session)
        : owner_(owner), session_(std::move(session)) {}
    ~Registration() { owner_.remove(session_->id); }
    Registration(const Registration&) = delete;
    Registration& operator=(const Registration&) = delete;
    LiveSession& session() { return *session_; }

   private:
    LiveSessions& owner_;
    std::shared_ptr<LiveSession> session_;
  };

  // `session` must be fully described (id, subject, ...) before it is added.
  std::unique_ptr<Registration> add(std::shared_ptr<LiveSession> session, Ender end);

  std::vector<LiveSessionView> list() const;
  // The review the live session with this client address waits for: empty when none (or no
  // such session). How the MCP endpoint learns that a call it made inside the gateway is
  // held, whatever the protocol; its client addresses are unique.
  std::string held_review_of_client(std::string_view client_addr) const;
  // False when no such session is live.
  bool end(const std::string& id, const std::string& reason);
  // Ends every live session of `subject`; returns how many.
  std::size_t end_subject(const std::string& subject, const std::string& reason);
  // Live sessions by protocol, for /metrics.
  std::map<std::string, std::size_t> count_by_protocol() const;

 private:
  struct Entry {
    std::shared_ptr<LiveSession> session;
    Ender end;
  };
  void remove(const std::string& id);

  mutable std::mutex mutex_;
  std::map<std::string, Entry, std::less<>> sessions_;
};

}  // namespace portcullis::gateway
