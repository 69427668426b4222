// Following a legacy scp transfer as OpenSSH's scp.c writes and reads it (source(), sink(),
// response()): in lock step, one line or one file's data, then its answer.
#include "proto/ssh/scp_stream.h"

#include <fmt/format.h>

#include <algorithm>
#include <iterator>
#include <utility>

#include "shell/paths.h"

namespace portcullis::proto::ssh::scp {
namespace {

// The start of a receiver's message kept for the journal.
constexpr std::size_t kMaxAnswerShown = 512;
// Digits of a size or a time: a 64-bit value has at most 20.
constexpr std::size_t kMaxDigits = 20;

bool is_digit(char c) {
  return c >= '0' && c <= '9';
}

// Reads a decimal number at the front of `text`; false when there is none or it is too long.
bool take_number(std::string_view& text, uint64_t& value) {
  std::size_t n = 0;
  value = 0;
  while (n < text.size() && is_digit(text[n])) {
    if (n == kMaxDigits - 1) return false;
    const auto digit = static_cast<uint64_t>(text[n] - '0');
    if (value > (UINT64_MAX - digit) / 10) return false;
    value = value * 10 + digit;
    ++n;
  }
  text.remove_prefix(n);
  return n > 0;
}

bool take(std::string_view& text, char c) {
  if (text.empty() || text.front() != c) return false;
  text.remove_prefix(1);
  return true;
}

std::string join(std::string_view base, std::string_view name) {
  return shell::normalise_path(fmt::format("{}/{}", base, name));
}

// As the host's scp joins them: nothing resolved, one slash between.
std::string join_as_sent(std::string_view base, std::string_view name) {
  if (base.empty()) return std::string(name);
  return base.back() == '/' ? fmt::format("{}{}", base, name) : fmt::format("{}/{}", base, name);
}

// A message as one line of the protocol: a newline in it would end it early.
std::string one_line(char kind, std::string_view message) {
  std::string line(1, kind);
  for (const char c : message) line += (c == '\n' || c == '\0') ? ' ' : c;
  line += '\n';
  return line;
}

}  // namespace

std::string describe(const Entry& entry, bool upload) {
  std::string text = upload ? (entry.directory ? "scp mkdir" : "scp write")
                            : (entry.directory ? "scp readdir" : "scp read");
  for (const auto& path : entry.paths) fmt::format_to(std::back_inserter(text), " {:?}", path);
  return text;
}

ScpStream::ScpStream(shell::ScpRequest request)
    : request_(std::move(request)), base_(shell::normalise_path(request_.path)) {
  // Both of OpenSSH's ends start with the receiver's "ready" answer (sink()'s first `\0`).
  awaiting_.push_back({.what = Awaits::ready, .entry = std::nullopt});
}

ScpStream::Step ScpStream::fail(std::string why) {
  if (error_.empty()) error_ = std::move(why);
  phase_ = Phase::broken;
  return Step::broken;
}

void ScpStream::place(Entry& entry) const {
  const std::string_view name = entry.name;
  if (!directories_.empty()) {
    for (const auto& base : directories_.back().paths) entry.paths.push_back(join(base, name));
    for (const auto& base : directories_.back().host_paths)
      entry.host_paths.push_back(join_as_sent(base, name));
    return;
  }
  const std::string& sent = request_.path;
  // A download's first entry is PATH itself (scp's source names it by its last component).
  if (!request_.upload) {
    entry.paths = {base_};
    entry.host_paths = {sent};
    return;
  }
  // scp's sink writes into PATH when it is a directory, and to PATH itself otherwise.
  entry.paths = {join(base_, name)};
  entry.host_paths = {join_as_sent(sent, name)};
  if (request_.target_is_directory) return;
  entry.paths.push_back(base_);
  entry.host_paths.push_back(sent);
}

ScpStream::Step ScpStream::from_sender(std::string& input) {
  std::size_t at = 0;
  Step step = Step::wait;
  while (at < input.size() && step == Step::wait) {
    if (phase_ == Phase::broken) {
      step = Step::broken;
    } else if (phase_ == Phase::deciding) {
      break;
    } else if (phase_ == Phase::data) {
      const auto taken = static_cast<std::size_t>(
          std::min<uint64_t>(data_left_, static_cast<uint64_t>(input.size() - at)));
      to_receiver_.append(input, at, taken);
      at += taken;
      data_left_ -= taken;
      if (data_left_ == 0) phase_ = Phase::data_status;
    } else if (phase_ == Phase::data_status) {
      // After its data, the sender says whether it read the file whole: `\0`, or a message.
      const char c = input[at++];
      to_receiver_ += c;
      if (c == '\0') {
        awaiting_.push_back({.what = Awaits::data, .entry = std::move(file_)});
        file_.reset();
        phase_ = Phase::line;
      } else {
        message_size_ = 1;
        phase_ = Phase::status_message;
      }
    } else if (phase_ == Phase::status_message) {
      const auto newline = input.find('\n', at);
      const std::size_t end = newline == std::string::npos ? input.size() : newline + 1;
      message_size_ += end - at;
      if (message_size_ > kMaxLine) {
        input.erase(0, at);
        return fail("a message too long");
      }
      to_receiver_.append(input, at, end - at);
      at = end;
      if (newline != std::string::npos) {
        awaiting_.push_back({.what = Awaits::data, .entry = std::move(file_)});
        file_.reset();
        phase_ = Phase::line;
      }
    } else {
      // A line is taken only once the previous one is answered.
      if (!awaiting_.empty()) break;
      const auto newline = input.find('\n', at);
      const std::size_t end = newline == std::string::npos ? input.size() : newline + 1;
      if (line_.size() + (end - at) > kMaxLine) {
        input.erase(0, at);
        return fail("a control line too long");
      }
      line_.append(input, at, end - at);
      at = end;
      if (newline == std::string::npos) break;
      step = read_line(line_);
      line_.clear();
    }
  }
  input.erase(0, at);
  return phase_ == Phase::broken ? Step::broken : step;
}

ScpStream::Step ScpStream::read_line(std::string_view line) {
  const std::string_view body = line.substr(0, line.size() - 1);  // without its newline
  switch (line.front()) {
    case '\x01':
    case '\x02':
      // The sender's own error (a file it cannot read): shown, not answered.
      to_receiver_.append(line);
      return Step::wait;
    case 'T': {
      std::string_view rest = body.substr(1);
      uint64_t mtime = 0, mtime_usec = 0, atime = 0, atime_usec = 0;
      if (!take_number(rest, mtime) || !take(rest, ' ') || !take_number(rest, mtime_usec) ||
          !take(rest, ' ') || !take_number(rest, atime) || !take(rest, ' ') ||
          !take_number(rest, atime_usec) || !rest.empty())
        return fail("a malformed time line");
      to_receiver_.append(line);
      awaiting_.push_back({.what = Awaits::times, .entry = std::nullopt});
      return Step::wait;
    }
    case 'E':
      if (body != "E") return fail("a malformed end of directory");
      if (directories_.empty()) return fail("an end of directory outside any directory");
      directories_.pop_back();
      to_receiver_.append(line);
      awaiting_.push_back({.what = Awaits::end, .entry = std::nullopt});
      return Step::wait;
    case 'C':
    case 'D':
      return read_entry(line);
    default:
      return fail("an unexpected control line");
  }
}

ScpStream::Step ScpStream::read_entry(std::string_view line) {
  std::string_view rest = line.substr(1, line.size() - 2);
  // sink(): exactly four octal digits of mode, a space, the size, a space, the name.
  if (rest.size() < 4) return fail("a malformed file line");
  for (std::size_t i = 0; i < 4; ++i)
    if (rest[i] < '0' || rest[i] > '7') return fail("a malformed file mode");
  rest.remove_prefix(4);
  uint64_t size = 0;
  if (!take(rest, ' ') || !take_number(rest, size) || !take(rest, ' '))
    return fail("a malformed file line");
  if (size > static_cast<uint64_t>(INT64_MAX)) return fail("a file size out of range");
  const std::string_view name = rest;
  if (name.empty() || name == "." || name == ".." || name.find('/') != std::string_view::npos ||
      name.find('\0') != std::string_view::npos)
    return fail(fmt::format("an unexpected file name {:?}", name));
  const bool directory = line.front() == 'D';
  if (directory && !request_.recursive) return fail("a directory without -r");
  if (directory && directories_.size() >= kMaxDepth) return fail("directories nested too deep");
  pending_ = Entry{};
  pending_.directory = directory;
  pending_.name = std::string(name);
  pending_.size = directory ? 0 : size;
  place(pending_);
  pending_line_.assign(line);
  phase_ = Phase::deciding;
  return Step::decide;
}

void ScpStream::allow() {
  if (phase_ != Phase::deciding) return;
  to_receiver_ += pending_line_;
  awaiting_.push_back(
      {.what = pending_.directory ? Awaits::directory : Awaits::file, .entry = pending_});
  phase_ = Phase::line;
}

void ScpStream::refuse(std::string_view message) {
  if (phase_ != Phase::deciding) return;
  // Nothing is awaited from the receiver while a line is decided: its answers stand between
  // two, where a warning fits.
  to_sender_ += one_line('\x01', message);
  phase_ = Phase::line;
}

ScpStream::Step ScpStream::from_receiver(std::string& input) {
  std::size_t at = 0;
  while (at < input.size() && phase_ != Phase::broken) {
    if (!in_answer_) {
      if (awaiting_.empty()) {
        input.erase(0, at);
        return fail("an answer to nothing that was sent");
      }
      const char c = input[at++];
      to_sender_ += c;
      if (c == '\0') {
        const Awaited awaited = std::move(awaiting_.front());
        awaiting_.pop_front();
        answered(awaited, true, {});
        continue;
      }
      // response(): `\x01` and `\x02` start a message; any other byte is its first character.
      in_answer_ = true;
      answer_.clear();
      if (c != '\x01' && c != '\x02') answer_ += c;
      continue;
    }
    const auto newline = input.find('\n', at);
    const std::size_t end = newline == std::string::npos ? input.size() : newline + 1;
    to_sender_.append(input, at, end - at);
    const std::size_t text_end = newline == std::string::npos ? end : newline;
    if (answer_.size() < kMaxAnswerShown)
      answer_.append(input, at, std::min(text_end - at, kMaxAnswerShown - answer_.size()));
    at = end;
    if (newline != std::string::npos) {
      in_answer_ = false;
      const Awaited awaited = std::move(awaiting_.front());
      awaiting_.pop_front();
      answered(awaited, false, std::move(answer_));
      answer_.clear();
    }
  }
  input.erase(0, at);
  return phase_ == Phase::broken ? Step::broken : Step::wait;
}

void ScpStream::answered(const Awaited& awaited, bool ok, std::string message) {
  if (!ok && message.empty()) message = "scp error";
  switch (awaited.what) {
    case Awaits::ready:
    case Awaits::times:
    case Awaits::end:
      return;
    case Awaits::file:
      if (!ok) {
        // The sender skips the file: its data never comes.
        outcomes_.push_back(std::move(message));
        return;
      }
      file_ = awaited.entry;
      data_left_ = awaited.entry->size;
      phase_ = data_left_ == 0 ? Phase::data_status : Phase::data;
      return;
    case Awaits::directory:
      if (ok) directories_.push_back({awaited.entry->paths, awaited.entry->host_paths});
      outcomes_.push_back(ok ? std::string() : std::move(message));
      return;
    case Awaits::data:
      outcomes_.push_back(ok ? std::string() : std::move(message));
      return;
  }
}

bool ScpStream::next_outcome(std::string& error) {
  if (outcomes_.empty()) return false;
  error = std::move(outcomes_.front());
  outcomes_.pop_front();
  return true;
}

std::string ScpStream::fatal_for_client(std::string_view message) const {
  // An upload's client reads the host's answers: a message of the host's cut short is ended
  // first, so that the fatal one is read as a message of its own.
  const bool cut_short = request_.upload && in_answer_;
  return (cut_short ? "\n" : "") + one_line('\x02', message);
}

}  // namespace portcullis::proto::ssh::scp
