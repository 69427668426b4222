// Listening sockets: one per I/O thread on the same address (SO_REUSEPORT), so the kernel
// spreads new connections across threads.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <string>

#include "common/result.h"

namespace portcullis::net {

Result<boost::asio::ip::tcp::acceptor> open_listener(boost::asio::io_context& context,
                                                     const std::string& host, uint16_t port);

// A loopback address (127.0.0.0/8, ::1, or an IPv4-mapped loopback).
bool is_loopback(const boost::asio::ip::address& address);

}  // namespace portcullis::net
