// SSH keys and user certificates, checked against OpenSSH's own ssh-keygen in both
// directions: what the gateway writes, ssh-keygen reads (and verifies); what ssh-keygen signs,
// the gateway verifies, and refuses once anything in it is changed.
#include "identity/ssh_certificate.h"

#include <fmt/format.h>
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <chrono>
#include <fstream>

#include "identity/signing_key.h"
#include "identity/ssh_keys.h"
#include "identity/ssh_wire.h"
#include "support/child_process.h"
#include "support/temp_dir.h"

namespace portcullis::identity::ssh {
namespace {

using portcullis::testing::run_command;
using portcullis::testing::RunResult;
using portcullis::testing::TempDir;

uint64_t now_seconds() {
  return static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::seconds>(
                                   std::chrono::system_clock::now().time_since_epoch())
                                   .count());
}

void write_file(const std::filesystem::path& path, const std::string& text, mode_t mode) {
  std::ofstream(path) << text;
  ::chmod(path.c_str(), mode);
}

std::string first_line(const std::string& text) {
  return text.substr(0, text.find('\n'));
}

// Writes `key` as an OpenSSH private key file.
std::filesystem::path write_private_key(const TempDir& dir, const std::string& name,
                                        const SigningKey& key) {
  auto pem = openssh_private_key(key.pkey(), name + "@test", 0x01020304);
  EXPECT_TRUE(pem) << pem.error().message;
  const auto path = dir.path() / name;
  write_file(path, pem->reveal(), 0600);
  return path;
}

std::string public_blob(const SigningKey& key) {
  auto blob = ed25519_public_blob(key.pkey());
  EXPECT_TRUE(blob);
  return blob ? *blob : std::string();
}

CertificateFields fields_for(const std::string& subject) {
  const uint64_t now = now_seconds();
  return {.serial = 42,
          .key_id = "portcullis:" + subject,
          .principals = {subject},
          .valid_after = now - 60,
          .valid_before = now + 3600,
          .critical_options = {},
          .extensions = {{"permit-pty", ""}, {"groups@portcullis", "dba,oncall"}}};
}

TEST(SshWire, Base64IsStrict) {
  EXPECT_EQ(base64_encode("ab"), "YWI=");
  EXPECT_EQ(base64_decode("YWI="), "ab");
  EXPECT_EQ(base64_decode("YWJj"), "abc");
  EXPECT_EQ(base64_decode("YQ=="), "a");
  EXPECT_FALSE(base64_decode("YWI"));
  EXPECT_FALSE(base64_decode("Y=I="));
  EXPECT_FALSE(base64_decode("YW I"));
}

TEST(SshKeys, SshKeygenReadsThePrivateKeyTheGatewayWrites) {
  TempDir dir;
  auto key = SigningKey::generate();
  ASSERT_TRUE(key);
  const auto path = write_private_key(dir, "id_ed25519", *key);
  const RunResult derived = run_command({"ssh-keygen", "-y", "-f", path.string()});
  ASSERT_EQ(derived.exit_code, 0) << derived.stderr_text;
  const std::string expected = public_key_line({.type = "ssh-ed25519", .blob = public_blob(*key)});
  EXPECT_EQ(first_line(derived.stdout_text).substr(0, expected.size()), expected);
  // And the fingerprint is the one ssh-keygen prints.
  const RunResult printed = run_command({"ssh-keygen", "-l", "-f", path.string()});
  ASSERT_EQ(printed.exit_code, 0) << printed.stderr_text;
  EXPECT_NE(printed.stdout_text.find(fingerprint(public_blob(*key))), std::string::npos)
      << printed.stdout_text;
}

TEST(SshKeys, ReadsPublicKeyLines) {
  auto key = SigningKey::generate();
  ASSERT_TRUE(key);
  const PublicKey original{.type = "ssh-ed25519", .blob = public_blob(*key)};
  auto parsed = parse_public_key_line(public_key_line(original, "ops key") + "\n");
  ASSERT_TRUE(parsed) << parsed.error().message;
  EXPECT_EQ(parsed->blob, original.blob);
  // The type in front must be the blob's own.
  EXPECT_FALSE(parse_public_key_line("ssh-rsa " + base64_encode(original.blob)));
  EXPECT_FALSE(parse_public_key_line("ssh-ed25519"));
  EXPECT_FALSE(parse_public_key_line("ssh-ed25519 not*base64"));
}

TEST(SshCertificate, SshKeygenAcceptsTheCertificatesTheGatewaySigns) {
  TempDir dir;
  auto ca = SigningKey::generate();
  auto user = SigningKey::generate();
  ASSERT_TRUE(ca && user);
  auto blob = sign_user_certificate(public_blob(*user), fields_for("alice"), ca->pkey(),
                                    std::string(32, '\x07'));
  ASSERT_TRUE(blob) << blob.error().message;
  const auto cert = dir.path() / "id_ed25519-cert.pub";
  write_file(cert,
             public_key_line({.type = std::string(kEd25519Certificate), .blob = *blob}) + "\n",
             0644);
  // ssh-keygen -L verifies the CA's signature while reading the certificate.
  const RunResult listed = run_command({"ssh-keygen", "-L", "-f", cert.string()});
  ASSERT_EQ(listed.exit_code, 0) << listed.stderr_text;
  const std::string& out = listed.stdout_text;
  EXPECT_NE(out.find("Type: ssh-ed25519-cert-v01@openssh.com user certificate"), std::string::npos)
      << out;
  EXPECT_NE(out.find("Key ID: \"portcullis:alice\""), std::string::npos) << out;
  EXPECT_NE(out.find("Serial: 42"), std::string::npos) << out;
  EXPECT_NE(out.find(fmt::format("Signing CA: ED25519 {}", fingerprint(public_blob(*ca)))),
            std::string::npos)
      << out;
  EXPECT_NE(out.find("permit-pty"), std::string::npos) << out;
  EXPECT_NE(out.find("groups@portcullis"), std::string::npos) << out;
  // The same bytes with one of them changed do not verify.
  std::string tampered = *blob;
  tampered[tampered.size() / 3] ^= 0x01;
  write_file(cert,
             public_key_line({.type = std::string(kEd25519Certificate), .blob = tampered}) + "\n",
             0644);
  EXPECT_NE(run_command({"ssh-keygen", "-L", "-f", cert.string()}).exit_code, 0);
}

TEST(SshCertificate, VerifiesWhatSshKeygenSigns) {
  TempDir dir;
  auto ca = SigningKey::generate();
  auto user = SigningKey::generate();
  auto other_ca = SigningKey::generate();
  ASSERT_TRUE(ca && user && other_ca);
  const auto ca_path = write_private_key(dir, "ca", *ca);
  write_private_key(dir, "id_ed25519", *user);
  write_file(dir.path() / "id_ed25519.pub",
             public_key_line({.type = "ssh-ed25519", .blob = public_blob(*user)}) + "\n", 0644);
  auto sign = [&](std::vector<std::string> options) {
    std::vector<std::string> argv = {
        "ssh-keygen", "-q", "-s", ca_path.string(), "-I", "bob-key", "-n", "bob,robert", "-z", "7"};
    argv.insert(argv.end(), options.begin(), options.end());
    argv.push_back((dir.path() / "id_ed25519.pub").string());
    const RunResult signed_by = run_command(argv);
    EXPECT_EQ(signed_by.exit_code, 0) << signed_by.stderr_text;
    auto line = parse_public_key_line(
        portcullis::testing::read_text_file(dir.path() / "id_ed25519-cert.pub"));
    EXPECT_TRUE(line) << (line ? "" : line.error().message);
    return line ? line->blob : std::string();
  };
  const uint64_t now = now_seconds();
  const std::string blob = sign({"-V", "-5m:+1h"});
  auto verified = verify_user_certificate(blob, public_blob(*ca), now);
  ASSERT_TRUE(verified) << verified.error().message;
  EXPECT_EQ(verified->fields.key_id, "bob-key");
  EXPECT_EQ(verified->fields.serial, 7u);
  EXPECT_EQ(verified->fields.principals, (std::vector<std::string>{"bob", "robert"}));
  EXPECT_EQ(verified->key, public_blob(*user));
  EXPECT_NE(verified->extension("permit-pty"), nullptr);
  // Another authority, outside the validity, a changed byte: refused, each for its reason.
  EXPECT_FALSE(verify_user_certificate(blob, public_blob(*other_ca), now));
  EXPECT_FALSE(verify_user_certificate(blob, public_blob(*ca), now + 2 * 3600));
  EXPECT_FALSE(verify_user_certificate(blob, public_blob(*ca), now - 3600));
  std::string tampered = blob;
  tampered[tampered.size() / 2] ^= 0x20;
  EXPECT_FALSE(verify_user_certificate(tampered, public_blob(*ca), now));
  // A critical option the gateway does not know, and a host certificate, are refused.
  auto forced = verify_user_certificate(sign({"-V", "-5m:+1h", "-O", "force-command=ls"}),
                                        public_blob(*ca), now);
  ASSERT_FALSE(forced);
  EXPECT_NE(forced.error().message.find("force-command"), std::string::npos);
  auto host = verify_user_certificate(sign({"-V", "-5m:+1h", "-h"}), public_blob(*ca), now);
  ASSERT_FALSE(host);
  EXPECT_NE(host.error().message.find("not a user certificate"), std::string::npos);
}

TEST(SshCertificate, ReadsOnlyWellFormedCertificates) {
  auto ca = SigningKey::generate();
  auto user = SigningKey::generate();
  ASSERT_TRUE(ca && user);
  auto blob = sign_user_certificate(public_blob(*user), fields_for("carol"), ca->pkey(), "nonce");
  ASSERT_TRUE(blob);
  for (std::size_t cut = 0; cut < blob->size(); cut += 7)
    EXPECT_FALSE(parse_certificate(blob->substr(0, cut))) << cut;
  EXPECT_FALSE(parse_certificate(*blob + "x"));
  EXPECT_FALSE(parse_certificate(public_blob(*user)));
  // Only Ed25519 keys are certified.
  WireWriter rsa;
  rsa.string("ssh-rsa").string("\x01\x00\x01").string("modulus");
  EXPECT_FALSE(sign_user_certificate(rsa.bytes(), fields_for("carol"), ca->pkey(), "nonce"));
}

}  // namespace
}  // namespace portcullis::identity::ssh
