// The sftp relay: requests taken whole from the client's stream and held for a decision where
// they name files; the host's stream passed through with its packets' starts read.
#include "proto/ssh/sftp_relay.h"

#include <fmt/format.h>

#include <algorithm>

namespace portcullis::proto::ssh::sftp {

SftpRelay::Step SftpRelay::fail(std::string why) {
  if (error_.empty()) error_ = std::move(why);
  return Step::broken;
}

SftpRelay::Step SftpRelay::from_client(std::string& input) {
  if (!error_.empty()) return Step::broken;
  if (holding_) return pending_.treatment == Treatment::refuse ? Step::refuse : Step::decide;
  for (;;) {
    if (to_host_.size() >= kMaxForward || awaiting_.size() >= kMaxAwaiting ||
        replies_.size() >= kMaxReplies)
      return Step::wait;
    // The length first, then exactly the rest of the packet: never more than one request is
    // held, however large the client's window.
    std::size_t wanted = kLengthSize;
    if (incoming_.size() >= kLengthSize) {
      const auto frame = next_frame(incoming_);
      if (frame.state == Frame::State::too_large)
        return fail(fmt::format("an sftp request longer than {} bytes (or empty)", kMaxPacketBody));
      wanted = frame.size;
    }
    const std::size_t take = std::min(wanted - incoming_.size(), input.size());
    incoming_.append(input, 0, take);
    input.erase(0, take);
    if (incoming_.size() < wanted) return Step::wait;
    if (wanted == kLengthSize) continue;  // the length is in: now the body

    auto request = read_request(std::string_view(incoming_).substr(kLengthSize));
    if (!request) return fail(request.error().message);
    pending_ = std::move(request.value());
    if (!initialised_) {
      // The draft's first packet is INIT, and only the first (sftp-server ends otherwise).
      if (pending_.type != kInit) return fail("an sftp stream that does not start with INIT");
      initialised_ = true;
    } else if (pending_.type == kInit) {
      return fail("a second sftp INIT");
    }
    if (pending_.treatment == Treatment::pass) {
      to_host_ += incoming_;
      incoming_.clear();
      continue;
    }
    holding_ = true;
    return pending_.treatment == Treatment::refuse ? Step::refuse : Step::decide;
  }
}

void SftpRelay::allow(bool journaled) {
  if (!holding_) return;
  to_host_ += incoming_;
  incoming_.clear();
  holding_ = false;
  if (journaled) awaiting_.push_back({.id = pending_.id, .answered = false, .error = {}});
}

void SftpRelay::refuse(std::string_view message) {
  if (!holding_) return;
  replies_ += status_packet(pending_.id, kPermissionDenied, message);
  incoming_.clear();
  holding_ = false;
}

void SftpRelay::flush_replies(std::string& to_client) {
  if (replies_.empty() || !host_header_.empty() || host_left_ > 0) return;
  to_client += replies_;
  replies_.clear();
}

bool SftpRelay::note_reply(const Reply& reply) {
  if (reply.version) {
    if (*reply.version != kVersion3) {
      error_ = fmt::format("the host answered with sftp version {}; the gateway follows version {}",
                           *reply.version, kVersion3);
      return false;
    }
    return true;
  }
  if (!reply.id) return true;
  const auto awaited = std::find_if(awaiting_.begin(), awaiting_.end(), [&](const Awaited& a) {
    return !a.answered && a.id == *reply.id;
  });
  if (awaited == awaiting_.end()) return true;
  awaited->answered = true;
  if (reply.type == kStatus && reply.status.value_or(kFailure) != kOk)
    awaited->error = fmt::format("sftp status {}: {}", reply.status.value_or(kFailure),
                                 status_name(reply.status.value_or(kFailure)));
  return true;
}

bool SftpRelay::from_host(std::string_view bytes, std::string& to_client) {
  if (!error_.empty()) return false;
  while (!bytes.empty()) {
    flush_replies(to_client);
    if (host_left_ > 0) {
      const std::size_t n = std::min(host_left_, bytes.size());
      to_client.append(bytes.substr(0, n));
      host_left_ -= n;
      bytes.remove_prefix(n);
      continue;
    }
    // The start of a packet: its length, then its type, id and status code.
    std::size_t wanted = kLengthSize;
    uint32_t length = 0;
    if (host_header_.size() >= kLengthSize) {
      for (std::size_t i = 0; i < kLengthSize; ++i)
        length = (length << 8) | static_cast<uint8_t>(host_header_[i]);
      if (length == 0 || length > kMaxPacketBody) {
        error_ = fmt::format("an sftp reply longer than {} bytes (or empty)", kMaxPacketBody);
        return false;
      }
      wanted = kLengthSize + std::min<std::size_t>(length, kReplyHeader);
    }
    const std::size_t take = std::min(wanted - host_header_.size(), bytes.size());
    host_header_.append(bytes.substr(0, take));
    bytes.remove_prefix(take);
    if (host_header_.size() < wanted || wanted == kLengthSize) continue;
    if (!note_reply(read_reply(std::string_view(host_header_).substr(kLengthSize)))) return false;
    to_client += host_header_;
    host_left_ = kLengthSize + length - host_header_.size();
    host_header_.clear();
  }
  flush_replies(to_client);
  return true;
}

bool SftpRelay::next_outcome(std::string& error) {
  if (awaiting_.empty() || !awaiting_.front().answered) return false;
  error = std::move(awaiting_.front().error);
  awaiting_.pop_front();
  return true;
}

}  // namespace portcullis::proto::ssh::sftp
