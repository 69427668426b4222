// FullDisk: makes a process's writes to regular files fail as on a full disk, until released.
// It lowers the process's file-size limit (RLIMIT_FSIZE) to one byte: every write past the
// first byte of any file fails with EFBIG, which the journal meets exactly as it meets ENOSPC
// or EIO. A real failing write, not a hook in the code under test.
#pragma once

#include <sys/resource.h>
#include <sys/types.h>

#include <csignal>
#include <stdexcept>
#include <string>

namespace portcullis::testing {

class FullDisk {
 public:
  // `pid` 0: this process (whose SIGXFSZ is then ignored, as the gateway ignores it).
  explicit FullDisk(pid_t pid = 0) : pid_(pid) {
    if (pid == 0) std::signal(SIGXFSZ, SIG_IGN);
    rlimit full{};
    if (::prlimit(pid_, RLIMIT_FSIZE, nullptr, &saved_) != 0)
      throw std::runtime_error("cannot read the file-size limit");
    full = saved_;
    full.rlim_cur = 1;
    if (::prlimit(pid_, RLIMIT_FSIZE, &full, nullptr) != 0)
      throw std::runtime_error("cannot lower the file-size limit");
  }
  ~FullDisk() { release(); }
  FullDisk(const FullDisk&) = delete;
  FullDisk& operator=(const FullDisk&) = delete;

  void release() {
    if (released_) return;
    released_ = true;
    ::prlimit(pid_, RLIMIT_FSIZE, &saved_, nullptr);
  }

 private:
  pid_t pid_;
  rlimit saved_{};
  bool released_ = false;
};

}  // namespace portcullis::testing
