// Connection ids and the sessions behind them.
#include "proto/mysql/thread_ids.h"

namespace portcullis::proto::mysql {

uint32_t ThreadIds::allocate() {
  std::lock_guard lock(mutex_);
  for (;;) {
    const uint32_t id = next_++;
    if (next_ == 0) next_ = 1;
    if (id != 0 && !targets_.contains(id)) {
      targets_.emplace(id, nullptr);  // reserved until add()
      return id;
    }
  }
}

void ThreadIds::add(uint32_t id, std::shared_ptr<KillTarget> target) {
  std::lock_guard lock(mutex_);
  targets_[id] = std::move(target);
}

void ThreadIds::remove(uint32_t id) {
  std::lock_guard lock(mutex_);
  targets_.erase(id);
}

std::shared_ptr<KillTarget> ThreadIds::find(uint32_t id) const {
  std::lock_guard lock(mutex_);
  const auto it = targets_.find(id);
  return it == targets_.end() ? nullptr : it->second;
}

}  // namespace portcullis::proto::mysql
