// Counting connections that have not finished their handshake, in all and per source.
#include "net/pending_connections.h"

namespace portcullis::net {

void PendingConnections::Ticket::release() {
  if (!owner_) return;
  owner_->release(key_);
  owner_.reset();
}

boost::asio::ip::address PendingConnections::key_of(const boost::asio::ip::address& source) {
  if (source.is_v4()) return source;
  const auto v6 = source.to_v6();
  if (v6.is_v4_mapped()) return boost::asio::ip::make_address_v4(boost::asio::ip::v4_mapped, v6);
  auto bytes = v6.to_bytes();
  for (std::size_t i = 8; i < bytes.size(); ++i) bytes[i] = 0;  // the /64 prefix
  return boost::asio::ip::address_v6(bytes);
}

std::optional<PendingConnections::Ticket> PendingConnections::try_admit(
    const boost::asio::ip::address& source, std::string_view& refused_by) {
  const auto key = key_of(source);
  std::lock_guard lock(mutex_);
  if (total_ >= caps_.total) {
    refused_by = "total";
    return std::nullopt;
  }
  auto& count = by_address_[key];
  if (count >= caps_.per_address) {
    if (count == 0) by_address_.erase(key);
    refused_by = "per_address";
    return std::nullopt;
  }
  ++count;
  ++total_;
  return Ticket(shared_from_this(), key);
}

void PendingConnections::release(const boost::asio::ip::address& key) {
  std::lock_guard lock(mutex_);
  --total_;
  const auto it = by_address_.find(key);
  if (it != by_address_.end() && --it->second == 0) by_address_.erase(it);
}

void PendingConnections::set_caps(Caps caps) {
  std::lock_guard lock(mutex_);
  caps_ = caps;
}

std::size_t PendingConnections::total() const {
  std::lock_guard lock(mutex_);
  return total_;
}

std::size_t PendingConnections::from(const boost::asio::ip::address& source) const {
  std::lock_guard lock(mutex_);
  const auto it = by_address_.find(key_of(source));
  return it == by_address_.end() ? 0 : it->second;
}

}  // namespace portcullis::net
