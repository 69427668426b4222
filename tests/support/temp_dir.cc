// Creation and removal of per-test temporary directories.
#include "temp_dir.h"

#include <fmt/core.h>
#include <sys/stat.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <stdexcept>
#include <string>
#include <system_error>
#include <vector>

namespace portcullis::testing {

namespace {

bool keep_test_dirs() {
  const char* keep = std::getenv("PORTCULLIS_KEEP_TEST_DIRS");
  return keep != nullptr && *keep != '\0' && std::string_view(keep) != "0";
}

}  // namespace

TempDir::TempDir(std::string_view prefix) {
  std::string pattern = fmt::format("/tmp/{}XXXXXX", prefix);
  std::vector<char> buffer(pattern.begin(), pattern.end());
  buffer.push_back('\0');
  if (::mkdtemp(buffer.data()) == nullptr) {
    throw std::runtime_error(fmt::format("mkdtemp {}: {}", pattern, std::strerror(errno)));
  }
  path_ = buffer.data();
  // mkdtemp makes the directory 0700; another user (the PostgreSQL server) must traverse it.
  if (::chmod(path_.c_str(), 0755) != 0) {
    throw std::runtime_error(fmt::format("chmod {}: {}", path_.string(), std::strerror(errno)));
  }
}

TempDir::~TempDir() {
  remove();
}

TempDir::TempDir(TempDir&& other) noexcept : path_(std::move(other.path_)) {
  other.path_.clear();
}

TempDir& TempDir::operator=(TempDir&& other) noexcept {
  if (this != &other) {
    remove();
    path_ = std::move(other.path_);
    other.path_.clear();
  }
  return *this;
}

void TempDir::remove() noexcept {
  if (path_.empty()) return;
  if (keep_test_dirs()) {
    fmt::print(stderr, "keeping test directory {}\n", path_.string());
  } else {
    std::error_code ignored;
    std::filesystem::remove_all(path_, ignored);
  }
  path_.clear();
}

}  // namespace portcullis::testing
