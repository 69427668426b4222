// Gateway-issued cancel keys.
#include "proto/postgres/cancel_registry.h"

#include <openssl/crypto.h>
#include <openssl/rand.h>

namespace portcullis::proto::postgres {

BackendKeyData CancelRegistry::add(CancelTarget target) {
  int32_t secret = 0;
  RAND_bytes(reinterpret_cast<unsigned char*>(&secret), sizeof secret);
  std::lock_guard lock(mutex_);
  if (next_id_ == 0) {
    // Start at a random point so ids do not reveal how many sessions came before.
    RAND_bytes(reinterpret_cast<unsigned char*>(&next_id_), sizeof next_id_);
  }
  int32_t id;
  do {
    // Positive, like PostgreSQL process ids.
    id = static_cast<int32_t>(++next_id_ & 0x7fffffff);
  } while (id == 0 || entries_.contains(id));
  entries_.emplace(id, Entry{secret, std::move(target)});
  return BackendKeyData{id, secret};
}

void CancelRegistry::remove(int32_t process_id) {
  std::lock_guard lock(mutex_);
  entries_.erase(process_id);
}

std::optional<CancelTarget> CancelRegistry::find(const CancelRequest& request) const {
  std::lock_guard lock(mutex_);
  const auto it = entries_.find(request.process_id);
  if (it == entries_.end()) return std::nullopt;
  if (CRYPTO_memcmp(&it->second.secret_key, &request.secret_key, sizeof request.secret_key) != 0)
    return std::nullopt;
  return it->second.target;
}

}  // namespace portcullis::proto::postgres
