// `portcullis ssh login`: a key pair made here and certified by the gateway for as long as the
// caller's token, written where `ssh -i` takes it. OpenSSH clients cut passwords at 1023 bytes,
// so a JWT cannot be typed at the SSH listener's password prompt; a certificate carries it.
#include <fcntl.h>
#include <fmt/format.h>
#include <openssl/rand.h>
#include <sys/stat.h>
#include <unistd.h>

#include <boost/json/object.hpp>
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <memory>
#include <string>

#include "cli/api_client.h"
#include "cli/commands.h"
#include "identity/signing_key.h"
#include "identity/ssh_keys.h"

namespace portcullis::cli {
namespace {

namespace json = boost::json;
namespace fs = std::filesystem;

constexpr std::string_view kKeyName = "id_ed25519";

struct SshLoginArgs {
  ApiOptions api;
  std::string out;
};

[[noreturn]] void exit_with_message(std::string_view message) {
  std::cerr << "portcullis: " << message << "\n";
  std::exit(1);
}

fs::path default_folder() {
  const char* home = std::getenv("HOME");
  if (home == nullptr || *home == '\0') exit_with_message("HOME is not set: give --out");
  return fs::path(home) / ".ssh" / "portcullis";
}

// Written under a temporary name with its final mode from the start, then renamed: a reader
// never sees a half-written key, nor a private key others may read.
void write_file(const fs::path& path, std::string_view content, mode_t mode) {
  const fs::path temporary = path.string() + ".tmp";
  ::unlink(temporary.c_str());
  const int fd = ::open(temporary.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
  if (fd < 0)
    exit_with_message(fmt::format("cannot write {}: {}", temporary.string(), std::strerror(errno)));
  std::size_t written = 0;
  while (written < content.size()) {
    const ssize_t n = ::write(fd, content.data() + written, content.size() - written);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      ::close(fd);
      exit_with_message(
          fmt::format("cannot write {}: {}", temporary.string(), std::strerror(errno)));
    }
    written += static_cast<std::size_t>(n);
  }
  if (::fsync(fd) != 0 || ::close(fd) != 0 || ::rename(temporary.c_str(), path.c_str()) != 0)
    exit_with_message(fmt::format("cannot write {}: {}", path.string(), std::strerror(errno)));
}

void run_ssh_login(const SshLoginArgs& args) {
  const fs::path folder = args.out.empty() ? default_folder() : fs::path(args.out);
  std::error_code ec;
  fs::create_directories(folder, ec);
  if (ec) exit_with_message(fmt::format("cannot create {}: {}", folder.string(), ec.message()));
  ::chmod(folder.c_str(), 0700);

  auto key = identity::SigningKey::generate();
  if (!key) exit_with_message(key.error().message);
  auto blob = identity::ssh::ed25519_public_blob(key->pkey());
  if (!blob) exit_with_message(blob.error().message);
  const std::string public_line = identity::ssh::public_key_line(
      {.type = std::string(identity::ssh::kEd25519), .blob = *blob}, "portcullis");

  const ApiClient api = connect_api_or_exit(args.api);
  const json::value answer = answer_or_exit(
      api.post("/api/v1/ssh/certificates", json::object{{"public_key", public_line}}));
  const json::object* object = answer.if_object();
  const std::string certificate = object ? string_field(*object, "certificate") : std::string();
  if (!certificate.starts_with("ssh-ed25519-cert-v01@openssh.com "))
    exit_with_message("the gateway's answer holds no certificate");

  uint32_t check = 0;
  if (RAND_bytes(reinterpret_cast<unsigned char*>(&check), sizeof check) != 1)
    exit_with_message("no random bytes for the key file");
  auto private_key = identity::ssh::openssh_private_key(key->pkey(), "portcullis", check);
  if (!private_key) exit_with_message(private_key.error().message);

  const fs::path key_file = folder / kKeyName;
  const fs::path certificate_file = folder / (std::string(kKeyName) + "-cert.pub");
  write_file(key_file, private_key->reveal(), 0600);
  write_file(folder / (std::string(kKeyName) + ".pub"), public_line + "\n", 0644);
  write_file(certificate_file, certificate + "\n", 0644);
  fmt::print("certificate for {} valid until {}\n", printable(string_field(*object, "key_id")),
             short_time(string_field(*object, "valid_before")));
  fmt::print("key:         {}\ncertificate: {}\n", key_file.string(), certificate_file.string());
  fmt::print("ssh -i {} -o CertificateFile={} -p 2222 CONNECTION@GATEWAY\n", key_file.string(),
             certificate_file.string());
}

}  // namespace

void add_ssh_command(CLI::App& app) {
  auto* ssh = app.add_subcommand("ssh", "SSH access through the gateway");
  ssh->require_subcommand(1);
  auto args = std::make_shared<SshLoginArgs>();
  auto* login = ssh->add_subcommand(
      "login", "Make a key pair and have the gateway certify it for as long as the token");
  login->add_option("--out", args->out,
                    "Folder for id_ed25519, id_ed25519.pub and id_ed25519-cert.pub "
                    "(default ~/.ssh/portcullis)");
  add_api_options(*login, args->api);
  login->callback([args] { run_ssh_login(*args); });
  add_ssh_keys_command(*ssh);
}

}  // namespace portcullis::cli
