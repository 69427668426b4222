// PendingConnections: connections accepted but not yet past their handshake (PostgreSQL) or
// first request (HTTP), counted in all and per source address. Such a connection costs its
// peer nothing but a socket; without these caps, one host opening idle connections holds
// every descriptor and slot until the handshake timeout frees them, and logins stall.
//
// IPv6 sources are counted per /64: one host usually has the whole prefix to choose from.
#pragma once

#include <boost/asio/ip/address.hpp>
#include <cstddef>
#include <memory>
#include <mutex>
#include <optional>
#include <string_view>
#include <unordered_map>

namespace portcullis::net {

class PendingConnections : public std::enable_shared_from_this<PendingConnections> {
 public:
  struct Caps {
    std::size_t total = 0;
    std::size_t per_address = 0;
  };

  // Holds one connection's place until released or destroyed. Move-only.
  class Ticket {
   public:
    Ticket() = default;
    Ticket(Ticket&& other) noexcept = default;
    Ticket& operator=(Ticket&& other) noexcept {
      release();
      owner_ = std::move(other.owner_);
      key_ = other.key_;
      return *this;
    }
    ~Ticket() { release(); }
    // Gives the place back (the handshake finished). Idempotent.
    void release();
    bool holds() const { return owner_ != nullptr; }

   private:
    friend class PendingConnections;
    Ticket(std::shared_ptr<PendingConnections> owner, boost::asio::ip::address key)
        : owner_(std::move(owner)), key_(key) {}
    std::shared_ptr<PendingConnections> owner_;
    boost::asio::ip::address key_;
  };

  static std::shared_ptr<PendingConnections> make(Caps caps) {
    return std::shared_ptr<PendingConnections>(new PendingConnections(caps));
  }

  // A place for a connection from `source`, or nullopt when a cap is reached; `refused_by`
  // then names it ("total" or "per_address").
  std::optional<Ticket> try_admit(const boost::asio::ip::address& source,
                                  std::string_view& refused_by);

  // A reload may change the caps; connections already admitted keep their place.
  void set_caps(Caps caps);
  std::size_t total() const;
  std::size_t from(const boost::asio::ip::address& source) const;

 private:
  explicit PendingConnections(Caps caps) : caps_(caps) {}
  void release(const boost::asio::ip::address& key);
  static boost::asio::ip::address key_of(const boost::asio::ip::address& source);

  mutable std::mutex mutex_;
  Caps caps_;
  std::size_t total_ = 0;
  std::unordered_map<boost::asio::ip::address, std::size_t> by_address_;
};

}  // namespace portcullis::net
