// Legacy scp's server request: only the lines OpenSSH's scp client sends are a transfer;
// anything that could run more than that one scp, or read differently on the host, is an
// ordinary command line.
#include "shell/scp_request.h"

#include <gtest/gtest.h>

#include <ostream>

namespace portcullis::shell {
namespace {

struct Recognised {
  std::string line;
  bool upload;
  std::string path;
  bool recursive = false;
  bool preserve = false;
  bool target_is_directory = false;
};

std::ostream& operator<<(std::ostream& out, const Recognised& row) {
  return out << row.line;
}

class ScpRequestRecognised : public ::testing::TestWithParam<Recognised> {};

TEST_P(ScpRequestRecognised, IsATransfer) {
  const auto& row = GetParam();
  const auto request = read_scp_request(row.line);
  ASSERT_TRUE(request.has_value()) << row.line;
  EXPECT_EQ(request->upload, row.upload);
  EXPECT_EQ(request->path, row.path);
  EXPECT_EQ(request->recursive, row.recursive);
  EXPECT_EQ(request->preserve, row.preserve);
  EXPECT_EQ(request->target_is_directory, row.target_is_directory);
}

// What OpenSSH's scp -O sends: "scp [-v] [-r] [-p] [-d] -t|-f [-- ]PATH".
INSTANTIATE_TEST_SUITE_P(
    OpenSshClient, ScpRequestRecognised,
    ::testing::Values(
        Recognised{.line = "scp -t .ssh/", .upload = true, .path = ".ssh/"},
        Recognised{.line = "scp -f /var/log/app.log", .upload = false, .path = "/var/log/app.log"},
        Recognised{.line = "scp -r -t .", .upload = true, .path = ".", .recursive = true},
        Recognised{.line = "scp -v -r -p -d -t /srv/in",
                   .upload = true,
                   .path = "/srv/in",
                   .recursive = true,
                   .preserve = true,
                   .target_is_directory = true},
        Recognised{.line = "scp -rp -f dir",
                   .upload = false,
                   .path = "dir",
                   .recursive = true,
                   .preserve = true},
        Recognised{.line = "scp -t -- -file", .upload = true, .path = "-file"},
        Recognised{.line = "scp -f 'a b'", .upload = false, .path = "a b"},
        Recognised{.line = "scp\t-t  x  ", .upload = true, .path = "x"}));

// Each stays an ordinary command line.
class ScpRequestNotRecognised : public ::testing::TestWithParam<std::string> {};

TEST_P(ScpRequestNotRecognised, IsACommandLine) {
  EXPECT_FALSE(read_scp_request(GetParam()).has_value()) << GetParam();
}

INSTANTIATE_TEST_SUITE_P(
    Evasions, ScpRequestNotRecognised,
    ::testing::Values(
        // More than the one scp.
        "scp -t x; rm -rf y", "scp -t x && rm -rf y", "scp -t x || reboot", "scp -t x | tee y",
        "scp -t x & rm y", "scp -t x\nrm -rf y", "rm -rf y; scp -t x", "scp -t $(rm -rf y)",
        "scp -t `rm -rf y`", "scp -t x $(id)",
        // Groups, subshells, comments, functions around it.
        "(scp -t x)", "{ scp -t x; }", "scp -t x # comment", "f() { scp -t x; }; f",
        // Wrappers, assignments, redirections.
        "sudo scp -t x", "env scp -t x", "sh -c 'scp -t x'", "exec scp -t x", "command scp -t x",
        "PATH=/tmp scp -t x", "LD_PRELOAD=/tmp/x.so scp -t x", "scp -t x > y", "scp -t x 2>/tmp/e",
        "scp -t x < /etc/passwd",
        // Another program, or scp written otherwise.
        "/usr/bin/scp -t x", "./scp -t x", "\\scp -t x", "'scp' -t x", "s\"cp\" -t x", "SCP -t x",
        "scpx -t x", "rsync -t x",
        // Words that depend on expansions.
        "scp -t $HOME", "scp -t *", "scp -t x{a,b}", "scp -f ${X}", "scp $T x",
        // Flags the client does not send, or not exactly one of -t and -f.
        "scp -t", "scp -f", "scp x", "scp -r x", "scp -t -f x", "scp -tf x", "scp -d -f x",
        "scp -T -t x", "scp -S /bin/sh -t x", "scp -o ProxyCommand=x -t x", "scp -3 -t x",
        "scp -t -x y", "scp -t --", "scp -t ''",
        // Not exactly one path.
        "scp -t x y", "scp -t -- x y", "scp -t x -r", "scp -f a b"));

}  // namespace
}  // namespace portcullis::shell
