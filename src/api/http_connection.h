// One accepted API connection: TLS when the client opens with a handshake (plain HTTP where
// the tls section's `plaintext` allows it), then requests one after another (keep-alive),
// each bounded in size and in time.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <memory>

#include "api/context.h"
#include "api/endpoint.h"
#include "net/pending_connections.h"

namespace portcullis::api {

// Returns when the connection is closed. `context` is the snapshot current at accept: its TLS
// context serves the handshake; each request then reads the current one. `pending` holds the
// connection's place among those that have not sent a request yet: given back once the first
// request is read whole, which must happen within a short deadline (kFirstRequestTimeout).
boost::asio::awaitable<void> serve_connection(boost::asio::ip::tcp::socket socket,
                                              std::shared_ptr<const ApiContext> context,
                                              Services& services,
                                              net::PendingConnections::Ticket pending);

}  // namespace portcullis::api
