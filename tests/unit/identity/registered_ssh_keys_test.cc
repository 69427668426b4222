// SSH keys registered to subjects: which key lines may be registered (keys made by ssh-keygen,
// and blobs altered by hand), and who a registered key logs in as, against a real state store.
#include "identity/registered_ssh_keys.h"

#include <gtest/gtest.h>

#include <chrono>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "identity/ssh_wire.h"
#include "support/child_process.h"
#include "support/temp_dir.h"
#include "test_clock.h"

namespace portcullis::identity {
namespace {

using namespace std::chrono_literals;
using testing::kNow;

std::string read_file(const std::filesystem::path& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

class RegisteredSshKeysTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto opened = store::open_state_store("sqlite://" + (dir_ / "state.db").string());
    ASSERT_TRUE(opened) << opened.error().message;
    store_ = std::move(*opened);
  }

  // The .pub line of a key ssh-keygen makes.
  std::string keygen(const std::string& name, std::vector<std::string> type) {
    std::vector<std::string> argv{
        "ssh-keygen", "-q", "-N", "", "-C", "made by " + name, "-f", (dir_ / name).string()};
    argv.insert(argv.end(), type.begin(), type.end());
    const auto made = portcullis::testing::run_command(argv);
    EXPECT_EQ(made.exit_code, 0) << made.describe();
    return read_file(dir_ / (name + ".pub"));
  }

  SshKeyRegistration registration(std::string line) {
    return {.subject = "ci-bot",
            .groups = {"deployers"},
            .public_key = std::move(line),
            .expires_at = kNow + 1h,
            .created_by = "root"};
  }

  portcullis::testing::TempDir dir_{"portcullis-registered-keys"};
  std::unique_ptr<store::StateStore> store_;
};

TEST_F(RegisteredSshKeysTest, ReadsEveryKeyTypeSshKeygenMakes) {
  for (const auto& type : std::vector<std::vector<std::string>>{{"-t", "ed25519"},
                                                                {"-t", "ecdsa", "-b", "256"},
                                                                {"-t", "ecdsa", "-b", "384"},
                                                                {"-t", "ecdsa", "-b", "521"},
                                                                {"-t", "rsa", "-b", "2048"}}) {
    const std::string line = keygen("key" + type.back(), type);
    auto key = read_registrable_ssh_key(line);
    ASSERT_TRUE(key) << line << ": " << key.error().message;
    // Written again as ssh-keygen wrote it (without the newline), comment kept.
    EXPECT_EQ(key->line + "\n", line);
    EXPECT_EQ(key->fingerprint, ssh::fingerprint(key->key.blob));
  }
}

TEST_F(RegisteredSshKeysTest, RefusesWeakRsaAndOtherTypes) {
  auto weak = read_registrable_ssh_key(keygen("weak", {"-t", "rsa", "-b", "1024"}));
  ASSERT_FALSE(weak);
  EXPECT_NE(weak.error().message.find("1024 bits; at least 2048"), std::string::npos)
      << weak.error().message;

  // A certificate, a security key and DSA: blobs of those types.
  for (const std::string type :
       {"ssh-ed25519-cert-v01@openssh.com", "sk-ssh-ed25519@openssh.com", "ssh-dss"}) {
    ssh::WireWriter blob;
    blob.string(type).string(std::string(32, 'k'));
    auto refused = read_registrable_ssh_key(type + " " + ssh::base64_encode(blob.bytes()));
    EXPECT_FALSE(refused) << type;
  }
  ssh::WireWriter cert;
  cert.string("ssh-ed25519-cert-v01@openssh.com").string("nonce");
  auto certificate = check_registrable_ssh_key_blob(cert.bytes());
  ASSERT_FALSE(certificate);
  EXPECT_NE(certificate.error().message.find("certificate is not a plain key"), std::string::npos);
}

TEST_F(RegisteredSshKeysTest, RefusesMalformedKeys) {
  const auto blob_of = [](std::string_view line) {
    return ssh::parse_public_key_line(line).value().blob;
  };
  const std::string ed25519 = blob_of(keygen("ed", {"-t", "ed25519"}));
  EXPECT_TRUE(check_registrable_ssh_key_blob(ed25519));
  // Trailing bytes, a short key.
  EXPECT_FALSE(check_registrable_ssh_key_blob(ed25519 + "x"));
  EXPECT_FALSE(check_registrable_ssh_key_blob(ed25519.substr(0, ed25519.size() - 1)));

  // An ECDSA point moved off its curve, and a curve name that is not the type's.
  const std::string p256 = blob_of(keygen("p256", {"-t", "ecdsa", "-b", "256"}));
  EXPECT_TRUE(check_registrable_ssh_key_blob(p256));
  std::string off_curve = p256;
  off_curve.back() = static_cast<char>(off_curve.back() ^ 1);
  auto off = check_registrable_ssh_key_blob(off_curve);
  ASSERT_FALSE(off);
  EXPECT_NE(off.error().message.find("not a point on its curve"), std::string::npos);
  ssh::WireWriter renamed;
  {
    ssh::WireReader reader(p256);
    (void)reader.string();
    (void)reader.string();
    renamed.string("ecdsa-sha2-nistp256").string("nistp384").string(reader.string());
  }
  EXPECT_FALSE(check_registrable_ssh_key_blob(renamed.bytes()));

  // RSA: a negative modulus, an even exponent.
  const std::string rsa = blob_of(keygen("rsa", {"-t", "rsa", "-b", "2048"}));
  ssh::WireReader reader(rsa);
  (void)reader.string();
  const std::string e(reader.string());
  const std::string n(reader.string());
  ssh::WireWriter negative;
  negative.string("ssh-rsa").string(e).string(n.substr(1));  // drops the sign byte
  EXPECT_FALSE(check_registrable_ssh_key_blob(negative.bytes()));
  ssh::WireWriter even;
  even.string("ssh-rsa").string(std::string(1, '\x04')).string(n);
  EXPECT_FALSE(check_registrable_ssh_key_blob(even.bytes()));

  // A comment with a control character.
  std::string line = keygen("commented", {"-t", "ed25519"});
  line.pop_back();
  EXPECT_FALSE(read_registrable_ssh_key(line + "\x1b[31m"));
}

TEST_F(RegisteredSshKeysTest, ARegisteredKeyIsItsSubjectUntilItExpiresOrIsRemoved) {
  const std::string line = keygen("bot", {"-t", "ed25519"});
  auto registered = register_ssh_key(*store_, registration(line), kNow);
  ASSERT_TRUE(registered) << registered.error().message;
  EXPECT_TRUE(registered->id.starts_with("k-")) << registered->id;
  const std::string blob = ssh::parse_public_key_line(line)->blob;

  auto identity = identity_of_registered_key(*store_, blob, kNow + 1min);
  ASSERT_TRUE(identity) << identity.error().message;
  EXPECT_EQ(identity->subject, "ci-bot");
  EXPECT_EQ(identity->kind, SubjectKind::service);
  EXPECT_EQ(identity->groups, std::vector<std::string>{"deployers"});
  EXPECT_EQ(identity->method, AuthMethod::ssh_key);
  EXPECT_EQ(identity->issuer, kSshKeyIssuer);
  EXPECT_EQ(identity->token_id, registered->id);
  // The journal's name for it: the registration's id and the key's fingerprint.
  EXPECT_EQ(identity->credential, "ssh_key " + registered->id + " " + ssh::fingerprint(blob));
  EXPECT_EQ(identity->credential.find(ssh::parse_public_key_line(line)->blob), std::string::npos);
  EXPECT_EQ(identity->issued_at, kNow);
  EXPECT_EQ(identity->expires_at, kNow + 1h);

  auto expired = identity_of_registered_key(*store_, blob, kNow + 1h);
  ASSERT_FALSE(expired);
  EXPECT_NE(expired.error().message.find("expired"), std::string::npos);
  EXPECT_NE(expired.error().code, "not_found");

  // Another key is not registered; the same key twice is a conflict.
  const std::string other = ssh::parse_public_key_line(keygen("other", {"-t", "ed25519"}))->blob;
  auto unknown = identity_of_registered_key(*store_, other, kNow);
  ASSERT_FALSE(unknown);
  EXPECT_EQ(unknown.error().code, "not_found");
  auto twice = register_ssh_key(*store_, registration(line), kNow);
  ASSERT_FALSE(twice);
  EXPECT_EQ(twice.error().code, "conflict");

  ASSERT_TRUE(store_->remove_ssh_key(registered->id, kNow, "root"));
  auto removed = identity_of_registered_key(*store_, blob, kNow + 1min);
  ASSERT_FALSE(removed);
  EXPECT_EQ(removed.error().code, "not_found");
}

TEST_F(RegisteredSshKeysTest, RefusesRegistrationsThatCannotBeRight) {
  const std::string line = keygen("bot", {"-t", "ed25519"});
  auto no_subject = registration(line);
  no_subject.subject.clear();
  EXPECT_EQ(register_ssh_key(*store_, no_subject, kNow).error().code, "invalid");
  auto bad_subject = registration(line);
  bad_subject.subject = "ci\nbot";
  EXPECT_EQ(register_ssh_key(*store_, bad_subject, kNow).error().code, "invalid");
  auto empty_group = registration(line);
  empty_group.groups = {""};
  EXPECT_EQ(register_ssh_key(*store_, empty_group, kNow).error().code, "invalid");
  auto past = registration(line);
  past.expires_at = kNow - 1s;
  EXPECT_EQ(register_ssh_key(*store_, past, kNow).error().code, "invalid");
  auto nothing = store_->list_ssh_keys("");
  ASSERT_TRUE(nothing);
  EXPECT_TRUE(nothing->empty());
}

}  // namespace
}  // namespace portcullis::identity
