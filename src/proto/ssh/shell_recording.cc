// The recording file of an interactive shell.
#include "proto/ssh/shell_recording.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <system_error>

namespace portcullis::proto::ssh {
namespace {

// Buffered output is written at this size (and when the shell ends).
constexpr std::size_t kFlushAt = 16 * 1024;

}  // namespace

std::unique_ptr<ShellRecording> ShellRecording::create(const std::filesystem::path& dir,
                                                       std::string_view session, int part,
                                                       const AsciicastWriter::Header& header,
                                                       std::string& error) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) {
    error = fmt::format("cannot create {}: {}", dir.string(), ec.message());
    return nullptr;
  }
  const auto name =
      part <= 1 ? fmt::format("{}.cast", session) : fmt::format("{}.{}.cast", session, part);
  auto path = dir / name;
  // O_EXCL: a session id is never reused, and an existing file is never overwritten.
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0) {
    error = fmt::format("cannot create {}: {}", path.string(), std::strerror(errno));
    return nullptr;
  }
  std::unique_ptr<ShellRecording> recording(new ShellRecording(fd, std::move(path)));
  recording->append(AsciicastWriter::header(header));
  return recording;
}

ShellRecording::ShellRecording(int fd, std::filesystem::path path)
    : fd_(fd), path_(std::move(path)), started_(std::chrono::steady_clock::now()) {}

ShellRecording::~ShellRecording() {
  flush();
  ::close(fd_);
}

double ShellRecording::elapsed() const {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - started_).count();
}

void ShellRecording::output(std::string_view masked) {
  if (full_ || masked.empty()) return;
  std::string line;
  writer_.output(elapsed(), masked, line);
  append(line);
}

void ShellRecording::resize(int width, int height) {
  if (full_) return;
  std::string line;
  AsciicastWriter::resize(elapsed(), width, height, line);
  append(line);
}

void ShellRecording::append(std::string_view line) {
  if (written_ + buffer_.size() + line.size() > kMaxBytes) {
    // The last line says why the recording stops here.
    full_ = true;
    std::string note;
    writer_.output(elapsed(), "\r\n[portcullis: recording stopped: it reached its size limit]\r\n",
                   note);
    buffer_ += note;
  } else {
    buffer_.append(line);
  }
  if (buffer_.size() >= kFlushAt || full_) flush();
}

void ShellRecording::flush() {
  std::string_view rest = buffer_;
  while (!rest.empty() && healthy_) {
    const ssize_t n = ::write(fd_, rest.data(), rest.size());
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      healthy_ = false;
      break;
    }
    rest.remove_prefix(static_cast<std::size_t>(n));
    written_ += static_cast<uint64_t>(n);
  }
  buffer_.clear();
}

}  // namespace portcullis::proto::ssh
