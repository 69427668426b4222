#include "identity/signing_key.h"

#include <gtest/gtest.h>
#include <openssl/pem.h>
#include <sys/stat.h>

#include <fstream>

#include "test_keys.h"

namespace portcullis::identity {
namespace {

using testing::TempDir;

mode_t file_mode(const std::filesystem::path& file) {
  struct stat st {};
  EXPECT_EQ(::stat(file.c_str(), &st), 0);
  return st.st_mode & 07777;
}

void write_file(const std::filesystem::path& file, const std::string& text, mode_t mode) {
  std::ofstream(file) << text;
  ::chmod(file.c_str(), mode);
}

TEST(SigningKey, CreatesMissingKeyFileWithMode0600AndParentFolder) {
  TempDir dir;
  const auto file = dir.path() / "var" / "keys" / "signing.key";
  auto key = load_signing_key(file, true);
  ASSERT_TRUE(key) << key.error().message;
  EXPECT_EQ(file_mode(file), 0600u);
  std::ifstream in(file);
  std::string first_line;
  std::getline(in, first_line);
  EXPECT_EQ(first_line, "-----BEGIN PRIVATE KEY-----");
}

TEST(SigningKey, ReloadsTheSameKeyItCreated) {
  TempDir dir;
  const auto file = dir.path() / "signing.key";
  auto created = load_signing_key(file, true);
  ASSERT_TRUE(created);
  auto loaded = load_signing_key(file, false);
  ASSERT_TRUE(loaded) << loaded.error().message;
  EXPECT_EQ(created->key_id(), loaded->key_id());
  EXPECT_EQ(EVP_PKEY_eq(created->pkey(), loaded->pkey()), 1);
}

TEST(SigningKey, NeverOverwritesAnExistingKeyFile) {
  TempDir dir;
  const auto file = dir.path() / "signing.key";
  auto original = SigningKey::generate();
  ASSERT_TRUE(original);
  write_file(file, original->to_pem()->reveal(), 0600);
  auto loaded = load_signing_key(file, true);
  ASSERT_TRUE(loaded) << loaded.error().message;
  EXPECT_EQ(loaded->key_id(), original->key_id());
}

TEST(SigningKey, RefusesMissingFileWhenNotAskedToCreate) {
  TempDir dir;
  const auto file = dir.path() / "absent.key";
  auto key = load_signing_key(file, false);
  ASSERT_FALSE(key);
  EXPECT_EQ(key.error().message, "signing key file " + file.string() + " does not exist");
  EXPECT_FALSE(std::filesystem::exists(file));
}

TEST(SigningKey, RefusesKeyFileReadableByGroupOrOthers) {
  TempDir dir;
  const auto file = dir.path() / "signing.key";
  auto key = SigningKey::generate();
  for (const mode_t mode : {0644, 0640, 0604, 0620, 0602}) {
    std::filesystem::remove(file);
    write_file(file, key->to_pem()->reveal(), mode);
    auto loaded = load_signing_key(file, true);
    ASSERT_FALSE(loaded) << std::oct << mode;
    EXPECT_NE(loaded.error().message.find("accessible by group or others"), std::string::npos);
    EXPECT_NE(loaded.error().message.find("chmod 600"), std::string::npos);
    // The error names the file, never its content.
    EXPECT_EQ(loaded.error().message.find("PRIVATE KEY"), std::string::npos);
  }
}

TEST(SigningKey, RefusesKeyThatIsNotEd25519) {
  TempDir dir;
  const auto file = dir.path() / "rsa.key";
  auto rsa = testing::generate_rsa_key();
  BioPtr bio(BIO_new(BIO_s_mem()));
  PEM_write_bio_PrivateKey(bio.get(), rsa.get(), nullptr, nullptr, 0, nullptr, nullptr);
  char* data = nullptr;
  const long length = BIO_get_mem_data(bio.get(), &data);
  write_file(file, std::string(data, static_cast<std::size_t>(length)), 0600);
  auto loaded = load_signing_key(file, false);
  ASSERT_FALSE(loaded);
  EXPECT_NE(loaded.error().message.find("not an Ed25519 private key"), std::string::npos);
}

TEST(SigningKey, RefusesFileThatIsNotAKey) {
  TempDir dir;
  const auto file = dir.path() / "junk.key";
  write_file(file, "hello\n", 0600);
  auto loaded = load_signing_key(file, false);
  ASSERT_FALSE(loaded);
  EXPECT_NE(loaded.error().message.find("not a PEM private key"), std::string::npos);
}

TEST(SigningKey, KeyIdIsAShortStableFingerprintThatDiffersPerKey) {
  auto a = SigningKey::generate();
  auto b = SigningKey::generate();
  ASSERT_TRUE(a && b);
  EXPECT_EQ(a->key_id().size(), 16u);
  EXPECT_NE(a->key_id(), b->key_id());
  auto again = SigningKey::from_pem(*a->to_pem());
  ASSERT_TRUE(again);
  EXPECT_EQ(again->key_id(), a->key_id());
}

}  // namespace
}  // namespace portcullis::identity
