// The gateway's SSH certificate authority: what it certifies, for how long, and the identity a
// certificate carries back to the SSH listener.
#include "identity/ssh_certificate_authority.h"

#include <fmt/format.h>
#include <gtest/gtest.h>
#include <sys/stat.h>

#include "identity/ssh_keys.h"
#include "support/temp_dir.h"

namespace portcullis::identity {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::system_clock;

std::string key_line() {
  auto key = SigningKey::generate();
  EXPECT_TRUE(key);
  auto blob = ssh::ed25519_public_blob(key->pkey());
  return ssh::public_key_line({.type = "ssh-ed25519", .blob = *blob}, "laptop");
}

std::string blob_of(const std::string& certificate_line) {
  auto parsed = ssh::parse_public_key_line(certificate_line);
  EXPECT_TRUE(parsed) << (parsed ? "" : parsed.error().message);
  return parsed ? parsed->blob : std::string();
}

Identity caller(Clock::time_point now) {
  Identity id;
  id.subject = "alice";
  id.kind = SubjectKind::service;
  id.groups = {"oncall", "dba"};
  id.method = AuthMethod::oidc;
  id.issuer = "https://idp.example";
  id.token_id = "jti-123";
  id.issued_at = std::chrono::floor<std::chrono::seconds>(now - 5min);
  id.expires_at = now + 2h;
  return id;
}

SshCertificateAuthority fresh_ca() {
  auto key = SigningKey::generate();
  EXPECT_TRUE(key);
  return SshCertificateAuthority(std::move(*key));
}

TEST(SshCertificateAuthority, CarriesTheCallersIdentityForNoLongerThanItsCredential) {
  const auto ca = fresh_ca();
  const auto now = Clock::now();
  auto issued = ca.issue(caller(now), key_line(), now, 12h);
  ASSERT_TRUE(issued) << issued.error().message;
  EXPECT_EQ(issued->key_id, "alice");
  EXPECT_TRUE(issued->certificate.starts_with("ssh-ed25519-cert-v01@openssh.com "));
  // The credential ends in 2 h: so does the certificate (whole seconds).
  EXPECT_LE(issued->valid_before, now + 2h);
  EXPECT_GT(issued->valid_before, now + 2h - 2s);
  EXPECT_LE(issued->valid_after, now);

  auto id = ca.identity_of(blob_of(issued->certificate), now + 1h);
  ASSERT_TRUE(id) << id.error().message;
  const Identity expected = caller(now);
  EXPECT_EQ(id->subject, expected.subject);
  EXPECT_EQ(id->kind, expected.kind);
  EXPECT_EQ(id->groups, expected.groups);
  EXPECT_EQ(id->method, expected.method);
  EXPECT_EQ(id->issuer, expected.issuer);
  EXPECT_EQ(id->token_id, expected.token_id);
  // The certificate itself, not the token that asked for it.
  EXPECT_EQ(id->credential, fmt::format("ssh_certificate {} alice", issued->serial));
  EXPECT_EQ(id->issued_at, expected.issued_at);
  EXPECT_EQ(id->expires_at, issued->valid_before);

  // Past its end, or from another authority: no identity.
  EXPECT_FALSE(ca.identity_of(blob_of(issued->certificate), now + 3h));
  EXPECT_FALSE(fresh_ca().identity_of(blob_of(issued->certificate), now));
}

TEST(SshCertificateAuthority, BoundsTheValidityByItsOwnLimit) {
  const auto ca = fresh_ca();
  const auto now = Clock::now();
  Identity never_expires = caller(now);
  never_expires.expires_at = Clock::time_point::max();  // an API key without a ttl
  auto issued = ca.issue(never_expires, key_line(), now, 30min);
  ASSERT_TRUE(issued) << issued.error().message;
  EXPECT_LE(issued->valid_before, now + 30min);
  EXPECT_GT(issued->valid_before, now + 29min);
}

TEST(SshCertificateAuthority, RefusesWhatItCannotCertify) {
  const auto ca = fresh_ca();
  const auto now = Clock::now();
  Identity expired = caller(now);
  expired.expires_at = now - 1s;
  EXPECT_FALSE(ca.issue(expired, key_line(), now, 12h));
  EXPECT_FALSE(ca.issue(caller(now), "not a key", now, 12h));
  auto rsa = ca.issue(caller(now), "ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAAAAQC7", now, 12h);
  EXPECT_FALSE(rsa);
}

TEST(SshCertificateAuthority, KeepsItsKeyInAFileOnlyItsOwnerReads) {
  testing::TempDir dir;
  const auto file = dir.path() / "var" / "ssh_user_ca";
  auto first = SshCertificateAuthority::load(file);
  ASSERT_TRUE(first) << first.error().message;
  struct stat st {};
  ASSERT_EQ(::stat(file.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600);
  auto again = SshCertificateAuthority::load(file);
  ASSERT_TRUE(again);
  EXPECT_EQ(again->public_blob(), first->public_blob());
  EXPECT_TRUE(first->public_key_line().starts_with("ssh-ed25519 "));
}

}  // namespace
}  // namespace portcullis::identity
