// A directory under /tmp that lives as long as the test needs it and is removed afterwards,
// so that a failing test does not leave clusters and keys behind.
#pragma once

#include <filesystem>
#include <string_view>

namespace portcullis::testing {

class TempDir {
 public:
  // Creates /tmp/<prefix>XXXXXX with mode 0755: PostgreSQL, run as another user, must be
  // able to traverse it. Set PORTCULLIS_KEEP_TEST_DIRS=1 to keep it for a post-mortem.
  explicit TempDir(std::string_view prefix = "portcullis-test-");
  ~TempDir();

  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  TempDir(TempDir&& other) noexcept;
  TempDir& operator=(TempDir&& other) noexcept;

  const std::filesystem::path& path() const { return path_; }
  std::filesystem::path operator/(const std::filesystem::path& child) const {
    return path_ / child;
  }

 private:
  void remove() noexcept;

  std::filesystem::path path_;
};

}  // namespace portcullis::testing
