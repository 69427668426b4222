// fork/exec with output to files, user switching and bounded waits.
#include "child_process.h"

#include <fcntl.h>
#include <fmt/core.h>
#include <grp.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <thread>
#include <utility>

#include "temp_dir.h"

extern char** environ;

namespace portcullis::testing {

namespace {

// Descriptors above stdio closed in the child one by one (close_range(2) is missing in some
// sandboxes); a test process never holds more than a few hundred.
constexpr int kMaxInheritedFd = 4096;

// How often bounded waits look at the child again: short enough not to slow tests down.
constexpr auto kPollInterval = std::chrono::milliseconds(5);

ExitStatus status_from_wait(int raw) {
  ExitStatus status;
  if (WIFEXITED(raw)) {
    status.exit_code = WEXITSTATUS(raw);
  } else if (WIFSIGNALED(raw)) {
    status.signal = WTERMSIG(raw);
  }
  return status;
}

std::map<std::string, std::string> build_environment(const ChildOptions& options) {
  std::map<std::string, std::string> env;
  if (!options.clear_env) {
    for (char** entry = environ; entry != nullptr && *entry != nullptr; ++entry) {
      std::string_view text(*entry);
      auto equals = text.find('=');
      if (equals == std::string_view::npos) continue;
      env.emplace(std::string(text.substr(0, equals)), std::string(text.substr(equals + 1)));
    }
  }
  for (const auto& name : options.unset_env) env.erase(name);
  for (const auto& [name, value] : options.env) env[name] = value;
  return env;
}

std::string resolve_program(const std::string& program,
                            const std::map<std::string, std::string>& env) {
  if (program.find('/') != std::string::npos) return program;
  auto path_entry = env.find("PATH");
  std::string search =
      path_entry != env.end() ? path_entry->second : "/usr/local/bin:/usr/bin:/bin";
  std::stringstream directories(search);
  std::string directory;
  while (std::getline(directories, directory, ':')) {
    // An empty entry means the current directory. Not written as `directory = "."`: GCC 12 at
    // -O3 then reports a bogus -Wrestrict overlap in std::string's assignment of a one-character
    // literal (GCC bug 105329).
    std::filesystem::path base =
        directory.empty() ? std::filesystem::path(".") : std::filesystem::path(directory);
    std::filesystem::path candidate = base / program;
    if (::access(candidate.c_str(), X_OK) == 0) return candidate.string();
  }
  throw std::runtime_error(fmt::format("cannot start {}: not found on PATH", program));
}

int open_or_throw(const std::filesystem::path& path, int flags) {
  int fd = ::open(path.c_str(), flags | O_CLOEXEC, 0644);
  if (fd < 0) {
    throw std::runtime_error(fmt::format("open {}: {}", path.string(), std::strerror(errno)));
  }
  return fd;
}

// Everything between fork and exec: only async-signal-safe calls, no allocation.
[[noreturn]] void exec_child(const ChildOptions& options, const char* program, char** argv,
                             char** envp, int stdin_fd, int stdout_fd, int stderr_fd,
                             int error_fd) {
  auto fail = [error_fd](int step) {
    int report[2] = {step, errno};
    [[maybe_unused]] auto written = ::write(error_fd, report, sizeof(report));
    ::_exit(127);
  };
  // Steps, reported to the parent on failure: 1 groups, 2 gid, 3 uid, 4 cwd, 5 fds, 6 exec.
  if (options.gid || options.uid) {
    if (::setgroups(0, nullptr) != 0) fail(1);
  }
  if (options.gid && ::setgid(*options.gid) != 0) fail(2);
  if (options.uid && ::setuid(*options.uid) != 0) fail(3);
  // After the uid change: changing credentials clears the parent-death signal.
  if (options.parent_death_signal != 0) {
    ::prctl(PR_SET_PDEATHSIG, options.parent_death_signal);
    // The parent may have died before prctl took effect.
    if (::getppid() == 1) ::_exit(127);
  }
  if (!options.working_dir.empty() && ::chdir(options.working_dir.c_str()) != 0) fail(4);
  if (::dup2(stdin_fd, 0) < 0 || ::dup2(stdout_fd, 1) < 0 || ::dup2(stderr_fd, 2) < 0) fail(5);

  // The test process may hold listening sockets and database files; the child must not.
  for (int fd = 3; fd < kMaxInheritedFd; ++fd) {
    if (fd != error_fd) ::close(fd);
  }

  // Dispositions and the mask survive exec; give the child a clean slate.
  sigset_t all;
  sigemptyset(&all);
  ::sigprocmask(SIG_SETMASK, &all, nullptr);
  ::signal(SIGPIPE, SIG_DFL);
  ::signal(SIGINT, SIG_DFL);
  ::signal(SIGTERM, SIG_DFL);
  ::signal(SIGHUP, SIG_DFL);

  ::execve(program, argv, envp);
  fail(6);
  ::_exit(127);
}

const char* step_name(int step) {
  switch (step) {
    case 1:
      return "setgroups";
    case 2:
      return "setgid";
    case 3:
      return "setuid";
    case 4:
      return "chdir";
    case 5:
      return "dup2";
    default:
      return "exec";
  }
}

ChildOptions make_options(std::vector<std::string> argv, std::map<std::string, std::string> env) {
  ChildOptions options;
  options.argv = std::move(argv);
  options.env = std::move(env);
  return options;
}

}  // namespace

std::string ExitStatus::describe() const {
  if (timed_out) return fmt::format("timed out and was killed (signal {})", signal);
  if (signal != 0) return fmt::format("killed by signal {} ({})", signal, ::strsignal(signal));
  return fmt::format("exited with status {}", exit_code);
}

std::string read_text_file(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return {};
  std::ostringstream buffer;
  buffer << in.rdbuf();
  return buffer.str();
}

std::optional<std::filesystem::path> executable_in(const std::filesystem::path& dir,
                                                   std::string_view name) {
  std::filesystem::path candidate = dir / name;
  if (::access(candidate.c_str(), X_OK) == 0) return candidate;
  return std::nullopt;
}

ChildProcess::ChildProcess(std::vector<std::string> argv, std::map<std::string, std::string> env)
    : ChildProcess(make_options(std::move(argv), std::move(env))) {}

ChildProcess::ChildProcess(ChildOptions options) {
  if (options.argv.empty()) throw std::invalid_argument("ChildProcess: empty argv");

  std::map<std::string, std::string> env = build_environment(options);
  std::string program = resolve_program(options.argv[0], env);

  if (options.stdout_file.empty() || options.stderr_file.empty() || options.stdin_data) {
    output_dir_ = std::make_unique<TempDir>("portcullis-child-");
  }
  stdout_path_ = options.stdout_file.empty() ? output_dir_->path() / "stdout" : options.stdout_file;
  stderr_path_ = options.stderr_file.empty() ? output_dir_->path() / "stderr" : options.stderr_file;

  // All descriptors are close-on-exec in this process; dup2 in the child clears the flag.
  std::vector<int> fds;
  auto close_all = [&fds] {
    for (int fd : fds) ::close(fd);
  };
  try {
    int stdin_fd;
    if (options.stdin_data) {
      std::filesystem::path stdin_path = output_dir_->path() / "stdin";
      std::ofstream(stdin_path, std::ios::binary) << *options.stdin_data;
      stdin_fd = open_or_throw(stdin_path, O_RDONLY);
    } else {
      stdin_fd = open_or_throw("/dev/null", O_RDONLY);
    }
    fds.push_back(stdin_fd);
    int stdout_fd = open_or_throw(stdout_path_, O_WRONLY | O_CREAT | O_APPEND);
    fds.push_back(stdout_fd);
    int stderr_fd = stderr_path_ == stdout_path_
                        ? stdout_fd
                        : open_or_throw(stderr_path_, O_WRONLY | O_CREAT | O_APPEND);
    if (stderr_fd != stdout_fd) fds.push_back(stderr_fd);
    int error_pipe[2];
    if (::pipe2(error_pipe, O_CLOEXEC) != 0) {
      throw std::runtime_error(fmt::format("pipe2: {}", std::strerror(errno)));
    }
    fds.push_back(error_pipe[0]);
    fds.push_back(error_pipe[1]);

    // Built before fork: the child must not allocate.
    std::vector<char*> argv_pointers;
    for (auto& arg : options.argv) argv_pointers.push_back(arg.data());
    argv_pointers.push_back(nullptr);
    std::vector<std::string> env_strings;
    for (const auto& [name, value] : env) env_strings.push_back(name + "=" + value);
    std::vector<char*> env_pointers;
    for (auto& entry : env_strings) env_pointers.push_back(entry.data());
    env_pointers.push_back(nullptr);

    pid_t pid = ::fork();
    if (pid < 0) throw std::runtime_error(fmt::format("fork: {}", std::strerror(errno)));
    if (pid == 0) {
      exec_child(options, program.c_str(), argv_pointers.data(), env_pointers.data(), stdin_fd,
                 stdout_fd, stderr_fd, error_pipe[1]);
    }
    pid_ = pid;
    ::close(error_pipe[1]);
    fds.pop_back();

    // The pipe closes on a successful exec; otherwise the child reports which step failed.
    int report[2] = {0, 0};
    ssize_t got;
    do {
      got = ::read(error_pipe[0], report, sizeof(report));
    } while (got < 0 && errno == EINTR);
    close_all();
    fds.clear();
    if (got == static_cast<ssize_t>(sizeof(report))) {
      int raw = 0;
      ::waitpid(pid_, &raw, 0);
      pid_ = -1;
      throw std::runtime_error(fmt::format("cannot start {}: {}: {}", options.argv[0],
                                           step_name(report[0]), std::strerror(report[1])));
    }
  } catch (...) {
    close_all();
    throw;
  }
}

ChildProcess::~ChildProcess() {
  reap_or_kill();
}

ChildProcess::ChildProcess(ChildProcess&& other) noexcept
    : pid_(std::exchange(other.pid_, -1)),
      status_(std::move(other.status_)),
      output_dir_(std::move(other.output_dir_)),
      stdout_path_(std::move(other.stdout_path_)),
      stderr_path_(std::move(other.stderr_path_)) {}

ChildProcess& ChildProcess::operator=(ChildProcess&& other) noexcept {
  if (this != &other) {
    reap_or_kill();
    pid_ = std::exchange(other.pid_, -1);
    status_ = std::move(other.status_);
    output_dir_ = std::move(other.output_dir_);
    stdout_path_ = std::move(other.stdout_path_);
    stderr_path_ = std::move(other.stderr_path_);
  }
  return *this;
}

void ChildProcess::reap_or_kill() noexcept {
  if (pid_ <= 0 || status_) return;
  ::kill(pid_, SIGKILL);
  int raw = 0;
  while (::waitpid(pid_, &raw, 0) < 0 && errno == EINTR) {
  }
  status_ = status_from_wait(raw);
}

std::optional<ExitStatus> ChildProcess::try_wait() {
  if (status_ || pid_ <= 0) return status_;
  int raw = 0;
  pid_t done = ::waitpid(pid_, &raw, WNOHANG);
  if (done == pid_) status_ = status_from_wait(raw);
  return status_;
}

bool ChildProcess::running() {
  return pid_ > 0 && !try_wait();
}

ExitStatus ChildProcess::wait(std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!try_wait()) {
    if (std::chrono::steady_clock::now() >= deadline) {
      reap_or_kill();
      status_->timed_out = true;
      break;
    }
    std::this_thread::sleep_for(kPollInterval);
  }
  return *status_;
}

ExitStatus ChildProcess::terminate(std::chrono::milliseconds grace) {
  send_signal(SIGTERM);
  return wait(grace);
}

ExitStatus ChildProcess::kill9() {
  reap_or_kill();
  return *status_;
}

void ChildProcess::send_signal(int signal_number) {
  if (running()) ::kill(pid_, signal_number);
}

bool ChildProcess::wait_for_output(std::string_view text, std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    // Read the files before checking for exit, so that text printed just before exiting
    // still counts.
    bool ended = !running();
    if (stdout_text().find(text) != std::string::npos ||
        stderr_text().find(text) != std::string::npos) {
      return true;
    }
    if (ended || std::chrono::steady_clock::now() >= deadline) return false;
    std::this_thread::sleep_for(kPollInterval * 4);
  }
}

std::string ChildProcess::stdout_text() const {
  return read_text_file(stdout_path_);
}
std::string ChildProcess::stderr_text() const {
  return read_text_file(stderr_path_);
}

std::string RunResult::describe() const {
  return fmt::format("{}\n--- stdout ---\n{}\n--- stderr ---\n{}", status.describe(), stdout_text,
                     stderr_text);
}

RunResult run_command(std::vector<std::string> argv, std::map<std::string, std::string> env,
                      std::chrono::milliseconds timeout) {
  return run_command(make_options(std::move(argv), std::move(env)), timeout);
}

RunResult run_command(ChildOptions options, std::chrono::milliseconds timeout) {
  ChildProcess child(std::move(options));
  RunResult result;
  result.status = child.wait(timeout);
  result.exit_code = result.status.shell_code();
  result.stdout_text = child.stdout_text();
  result.stderr_text = child.stderr_text();
  return result;
}

}  // namespace portcullis::testing
