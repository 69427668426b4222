// Starts programs for tests (the gateway, psql, pgbench, initdb, postgres) and collects what
// they print. Output goes to files rather than pipes so that a chatty child never blocks on a
// full pipe while the test is busy elsewhere.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <csignal>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace portcullis::testing {

class TempDir;

using std::chrono_literals::operator""ms;
using std::chrono_literals::operator""s;

struct ChildOptions {
  // argv[0] is looked up on PATH (the child's PATH) unless it contains a '/'.
  std::vector<std::string> argv;
  // Added to, or overriding, the inherited environment.
  std::map<std::string, std::string> env;
  // Removed from the inherited environment (e.g. PGPASSWORD, PGHOST).
  std::vector<std::string> unset_env;
  // Start from an empty environment instead of the test's.
  bool clear_env = false;
  // Empty: the test's working directory.
  std::filesystem::path working_dir;
  // Run as this user and group (the test must be root); supplementary groups are dropped.
  std::optional<uid_t> uid;
  std::optional<gid_t> gid;
  // Fed to the child's stdin; without it stdin is /dev/null.
  std::optional<std::string> stdin_data;
  // Where stdout and stderr go; empty: files in a private temporary directory. Both may name
  // the same file to interleave them.
  std::filesystem::path stdout_file;
  std::filesystem::path stderr_file;
  // Sent to the child when the test process dies, so that a crashed or timed-out test leaves
  // no server behind; 0 disables it. Linux sends it when the thread that started the child
  // ends, so start long-lived children from the test's main thread.
  int parent_death_signal = SIGKILL;
};

struct ExitStatus {
  int exit_code = -1;  // set when the child exited normally
  int signal = 0;      // set when a signal ended it
  bool timed_out = false;

  bool success() const { return exit_code == 0 && signal == 0 && !timed_out; }
  // Shell convention: the exit code, or 128 + signal number.
  int shell_code() const { return signal != 0 ? 128 + signal : exit_code; }
  std::string describe() const;
};

class ChildProcess {
 public:
  // Throws std::runtime_error when the program cannot be started (not found, bad uid, ...).
  explicit ChildProcess(ChildOptions options);
  explicit ChildProcess(std::vector<std::string> argv, std::map<std::string, std::string> env = {});
  // Kills the child with SIGKILL if it still runs, and reaps it.
  ~ChildProcess();

  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;
  ChildProcess(ChildProcess&& other) noexcept;
  ChildProcess& operator=(ChildProcess&& other) noexcept;

  pid_t pid() const { return pid_; }
  bool running();
  // The status if the child has ended, without blocking.
  std::optional<ExitStatus> try_wait();
  // Waits for the child to end; past the timeout it is killed and the status says timed_out.
  ExitStatus wait(std::chrono::milliseconds timeout = 60s);
  // SIGTERM, then SIGKILL if it has not ended within the grace period.
  ExitStatus terminate(std::chrono::milliseconds grace = 10s);
  ExitStatus kill9();
  // Sends any signal (SIGHUP for a reload, SIGINT, ...); a no-op once the child has ended.
  void send_signal(int signal_number);

  // Waits until stdout or stderr contains the text. False if the child ends or time runs out.
  bool wait_for_output(std::string_view text, std::chrono::milliseconds timeout = 30s);

  std::string stdout_text() const;
  std::string stderr_text() const;
  const std::filesystem::path& stdout_path() const { return stdout_path_; }
  const std::filesystem::path& stderr_path() const { return stderr_path_; }

 private:
  void reap_or_kill() noexcept;

  pid_t pid_ = -1;
  std::optional<ExitStatus> status_;
  std::unique_ptr<TempDir> output_dir_;
  std::filesystem::path stdout_path_;
  std::filesystem::path stderr_path_;
};

struct RunResult {
  int exit_code = -1;  // ExitStatus::shell_code()
  std::string stdout_text;
  std::string stderr_text;
  ExitStatus status;

  bool ok() const { return status.success(); }
  // One line for a failed assertion: status and both outputs.
  std::string describe() const;
};

// Runs a program to completion (killing it after the timeout) and returns what it printed.
RunResult run_command(std::vector<std::string> argv, std::map<std::string, std::string> env = {},
                      std::chrono::milliseconds timeout = 120s);
RunResult run_command(ChildOptions options, std::chrono::milliseconds timeout = 120s);

// The whole content of a file, or an empty string if it cannot be read.
std::string read_text_file(const std::filesystem::path& path);

// `dir`/`name` when it is there and executable (a server's tools in its versioned folder).
std::optional<std::filesystem::path> executable_in(const std::filesystem::path& dir,
                                                   std::string_view name);

}  // namespace portcullis::testing
