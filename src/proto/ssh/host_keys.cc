// The SSH listener's host key: created once, then loaded, like the token signing key.
#include "proto/ssh/host_keys.h"

#include <fmt/format.h>
#include <openssl/rand.h>

#include "identity/signing_key.h"
#include "identity/ssh_keys.h"

namespace portcullis::proto::ssh {

Result<std::shared_ptr<HostKeys>> HostKeys::load(const std::filesystem::path& file) {
  // The same file format as the token signing key and the user CA (PKCS#8 PEM), which libssh
  // reads as well.
  auto key = identity::load_signing_key(file, /*create_if_missing=*/true);
  if (!key) return make_error(fmt::format("ssh host key: {}", key.error().message));
  auto blob = identity::ssh::ed25519_public_blob(key->pkey());
  if (!blob) return make_error(fmt::format("ssh host key: {}", blob.error().message));

  auto keys = std::make_shared<HostKeys>();
  keys->public_key_line_ =
      identity::ssh::public_key_line({std::string(identity::ssh::kEd25519), *blob});
  keys->bind_.reset(ssh_bind_new());
  if (!keys->bind_) return make_error("ssh host key: out of memory");
  // Nothing of the machine's own libssh server settings applies.
  const bool no = false;
  ssh_bind_options_set(keys->bind_.get(), SSH_BIND_OPTIONS_PROCESS_CONFIG, &no);
  // libssh is given the key in OpenSSH's own format: the Ed25519 keys it reads from PEM lack
  // what its key exchange needs.
  uint32_t check = 0;
  RAND_bytes(reinterpret_cast<unsigned char*>(&check), sizeof check);
  auto text = identity::ssh::openssh_private_key(key->pkey(), "portcullis host key", check);
  if (!text) return make_error(fmt::format("ssh host key: {}", text.error().message));
  ssh_key imported = nullptr;
  if (ssh_pki_import_privkey_base64(text->reveal().c_str(), nullptr, nullptr, nullptr, &imported) !=
      SSH_OK)
    return make_error(fmt::format("ssh host key {}: libssh cannot read it", file.string()));
  // The bind owns the key from here.
  if (ssh_bind_options_set(keys->bind_.get(), SSH_BIND_OPTIONS_IMPORT_KEY, imported) != SSH_OK) {
    ssh_key_free(imported);
    return make_error(
        fmt::format("ssh host key {}: {}", file.string(), ssh_get_error(keys->bind_.get())));
  }
  return keys;
}

Result<void> HostKeys::accept(ssh_session session, int fd) {
  std::lock_guard lock(mutex_);
  if (ssh_bind_accept_fd(bind_.get(), session, fd) != SSH_OK)
    return make_error(fmt::format("cannot start an ssh session: {}", ssh_get_error(bind_.get())));
  return {};
}

}  // namespace portcullis::proto::ssh
