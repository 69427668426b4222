// CancelRegistry: maps the BackendKeyData the gateway gave each client to the backend process
// that serves it, so that a CancelRequest (which arrives on a new connection, possibly on
// another I/O thread) reaches the right backend. Clients never see backend keys.
#pragma once

#include <cstdint>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>

#include "proto/postgres/message.h"

namespace portcullis::proto::postgres {

struct CancelTarget {
  std::string host;
  uint16_t port = 0;
  BackendKeyData backend_key;
  // Tells the session itself (a statement it holds for review is withdrawn); callable from
  // any thread.
  std::function<void()> interrupt;
};

class CancelRegistry {
 public:
  // A fresh gateway key (unique process id, random secret) registered for `target`.
  BackendKeyData add(CancelTarget target);
  void remove(int32_t process_id);
  // The target, if the process id is known and the secret matches (constant-time compare).
  std::optional<CancelTarget> find(const CancelRequest& request) const;

 private:
  struct Entry {
    int32_t secret_key;
    CancelTarget target;
  };
  mutable std::mutex mutex_;  // cancels and connects are rare next to queries: a lock is fine
  std::unordered_map<int32_t, Entry> entries_;
  uint32_t next_id_ = 0;
};

}  // namespace portcullis::proto::postgres
