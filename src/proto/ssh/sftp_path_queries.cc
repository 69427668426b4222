// The gateway's own sftp stream to a host: INIT, VERSION, then REALPATH questions and their
// NAME or STATUS answers, matched by id.
#include "proto/ssh/sftp_path_queries.h"

#include <fmt/format.h>

namespace portcullis::proto::ssh::sftp {

PathQuestion question_for(std::string_view path, bool follow_last_link) {
  std::string_view trimmed = path;
  while (trimmed.size() > 1 && trimmed.back() == '/') trimmed.remove_suffix(1);
  const auto slash = trimmed.rfind('/');
  const std::string_view last =
      slash == std::string_view::npos ? trimmed : trimmed.substr(slash + 1);
  // "/", ".", "..", and an empty path: there is no last entry to keep apart.
  if (follow_last_link || last.empty() || last == "." || last == "..")
    return {std::string(path), {}};
  if (slash == std::string_view::npos) return {".", std::string(last)};
  return {slash == 0 ? "/" : std::string(trimmed.substr(0, slash)), std::string(last)};
}

std::string answer_for(const PathQuestion& question, std::string_view resolved) {
  if (question.append.empty()) return std::string(resolved);
  if (!resolved.empty() && resolved.back() == '/')
    return fmt::format("{}{}", resolved, question.append);
  return fmt::format("{}/{}", resolved, question.append);
}

PathQueries::PathQueries() : to_host_(init_packet()) {}

std::optional<uint32_t> PathQueries::ask(std::string_view path) {
  if (!error_.empty() || open_.size() >= kMaxOpen) return std::nullopt;
  const uint32_t id = next_id_++;
  open_.emplace(id, std::nullopt);
  to_host_ += realpath_packet(id, path);
  return id;
}

bool PathQueries::fail(std::string why) {
  if (error_.empty()) error_ = std::move(why);
  return false;
}

bool PathQueries::from_host(std::string_view bytes) {
  if (!error_.empty()) return false;
  incoming_.append(bytes);
  std::size_t at = 0;
  for (;;) {
    const Frame frame = next_frame(std::string_view(incoming_).substr(at));
    if (frame.state == Frame::State::too_large)
      return fail("the host's sftp-server sent a packet that is too large");
    if (frame.state == Frame::State::need_more) break;
    const std::string_view body =
        std::string_view(incoming_).substr(at + kLengthSize, frame.size - kLengthSize);
    at += frame.size;
    if (!versioned_) {
      const Reply reply = read_reply(body);
      if (reply.type != kVersion || reply.version != kVersion3)
        return fail("the host's sftp-server does not speak SFTP version 3");
      versioned_ = true;
      continue;
    }
    auto answer = read_realpath_answer(body);
    if (!answer) return fail(answer.error().message);
    auto it = open_.find(answer.value().id);
    if (it == open_.end() || it->second)
      return fail(fmt::format("the host's sftp-server answered request {}, which was not asked",
                              answer.value().id));
    it->second = std::move(answer).value();
  }
  incoming_.erase(0, at);
  return true;
}

std::optional<RealpathAnswer> PathQueries::take(uint32_t id) {
  auto it = open_.find(id);
  if (it == open_.end() || !it->second) return std::nullopt;
  auto answer = std::move(it->second);
  open_.erase(it);
  return answer;
}

}  // namespace portcullis::proto::ssh::sftp
