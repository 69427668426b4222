// ShellRecording: an interactive shell's masked output, kept as an asciicast v2 file in the
// recordings folder (`audit.recordings_dir`), named after the session:
// `SESSION.cast` for its first shell, `SESSION.N.cast` for the N-th. `portcullis sessions
// replay SESSION` plays it. Written through a small buffer; at most kMaxBytes per shell, after
// which the recording notes the cut and stops.
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <string_view>

#include "proto/ssh/asciicast.h"

namespace portcullis::proto::ssh {

class ShellRecording {
 public:
  static constexpr uint64_t kMaxBytes = 64ull << 20;

  // Creates the file (owner-only) for the `part`-th shell (from 1) of session `session`; null
  // and `error` when it cannot.
  static std::unique_ptr<ShellRecording> create(const std::filesystem::path& dir,
                                                std::string_view session, int part,
                                                const AsciicastWriter::Header& header,
                                                std::string& error);
  ~ShellRecording();
  ShellRecording(const ShellRecording&) = delete;
  ShellRecording& operator=(const ShellRecording&) = delete;

  void output(std::string_view masked);
  void resize(int width, int height);
  // Writes what is buffered; the file stays open.
  void flush();
  const std::filesystem::path& path() const { return path_; }
  // Whether every write so far reached the file.
  bool healthy() const { return healthy_; }

 private:
  ShellRecording(int fd, std::filesystem::path path);
  double elapsed() const;
  void append(std::string_view line);

  int fd_;
  std::filesystem::path path_;
  std::chrono::steady_clock::time_point started_;
  AsciicastWriter writer_;
  std::string buffer_;
  uint64_t written_ = 0;
  bool full_ = false;
  bool healthy_ = true;
};

}  // namespace portcullis::proto::ssh
