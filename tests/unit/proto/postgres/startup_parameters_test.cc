// Which client startup parameters reach the backend: the gateway's user and database, the
// settings unpacked from `options`, and the refusals for what the gateway owns.
#include "proto/postgres/startup_parameters.h"

#include <gtest/gtest.h>

#include <string>
#include <utility>
#include <vector>

namespace portcullis::proto::postgres {
namespace {

StartupMessage startup_with(std::vector<std::pair<std::string_view, std::string_view>> params) {
  StartupMessage startup;
  startup.protocol_version = kProtocolVersion3;
  startup.parameters = std::move(params);
  return startup;
}

Result<ParameterList> backend_parameters(
    std::vector<std::pair<std::string_view, std::string_view>> params) {
  return backend_startup_parameters(startup_with(std::move(params)), "svc_user", "svc_db");
}

TEST(BackendStartupParameters, ReplacesUserAndDatabase) {
  const auto params = backend_parameters({{"user", "alice"}, {"database", "other"}});
  ASSERT_TRUE(params.ok()) << params.error().message;
  EXPECT_EQ(*params, (ParameterList{{"user", "svc_user"}, {"database", "svc_db"}}));
}

TEST(BackendStartupParameters, PutsUserAndDatabaseFirstEvenWhenAbsent) {
  const auto params = backend_parameters({{"application_name", "psql"}});
  ASSERT_TRUE(params.ok()) << params.error().message;
  EXPECT_EQ(
      *params,
      (ParameterList{{"user", "svc_user"}, {"database", "svc_db"}, {"application_name", "psql"}}));
}

TEST(BackendStartupParameters, ForwardsOrdinaryParameters) {
  const auto params = backend_parameters({{"user", "alice"},
                                          {"application_name", "report job"},
                                          {"client_encoding", "UTF8"},
                                          {"DateStyle", "ISO, MDY"}});
  ASSERT_TRUE(params.ok()) << params.error().message;
  EXPECT_EQ(*params, (ParameterList{{"user", "svc_user"},
                                    {"database", "svc_db"},
                                    {"application_name", "report job"},
                                    {"client_encoding", "UTF8"},
                                    {"DateStyle", "ISO, MDY"}}));
}

TEST(BackendStartupParameters, UnpacksEveryFormOfOptionsSetting) {
  const auto params = backend_parameters({{"options", "-c a=b --c-d=e -cfoo=bar"}});
  ASSERT_TRUE(params.ok()) << params.error().message;
  EXPECT_EQ(
      *params,
      (ParameterList{
          {"user", "svc_user"}, {"database", "svc_db"}, {"a", "b"}, {"c_d", "e"}, {"foo", "bar"}}));
}

TEST(BackendStartupParameters, KeepsEscapedSpacesInOptionValues) {
  const auto params = backend_parameters({{"options", R"(-c search_path=my\ schema,public)"}});
  ASSERT_TRUE(params.ok()) << params.error().message;
  ASSERT_EQ(params->size(), 3u);
  EXPECT_EQ((*params)[2], (std::pair<std::string, std::string>{"search_path", "my schema,public"}));
}

TEST(BackendStartupParameters, RefusesOwnedSettingAsParameter) {
  for (std::string_view name : {"default_transaction_read_only", "transaction_read_only", "role",
                                "session_authorization", "session_replication_role", "ROLE",
                                "Default_Transaction_Read_Only", "Session_Authorization"}) {
    const auto params = backend_parameters({{name, "off"}});
    EXPECT_FALSE(params.ok()) << name;
  }
}

TEST(BackendStartupParameters, RefusesOwnedSettingInOptions) {
  for (std::string_view options :
       {"-c default_transaction_read_only=off", "-crole=admin", "--role=admin",
        "-c application_name=x -c SESSION_AUTHORIZATION=postgres", "-c Role=admin"}) {
    const auto params = backend_parameters({{"options", options}});
    EXPECT_FALSE(params.ok()) << options;
  }
}

TEST(BackendStartupParameters, RefusesOwnedSettingSpelledWithDashes) {
  // PostgreSQL turns dashes into underscores in option names (ParseLongOption), and so does
  // the gateway before forwarding: the check must see the name the backend will see.
  for (std::string_view options :
       {"--default-transaction-read-only=off", "-c default-transaction-read-only=off",
        "--session-authorization=postgres", "--session-replication-role=replica"}) {
    const auto params = backend_parameters({{"options", options}});
    EXPECT_FALSE(params.ok()) << options;
  }
  EXPECT_FALSE(backend_parameters({{"default-transaction-read-only", "off"}}).ok());
}

TEST(BackendStartupParameters, RefusesOptionsOtherThanSettings) {
  for (std::string_view options : {"-d 5", "-d5", "-F", "-o x", "positional", "-c"}) {
    const auto params = backend_parameters({{"options", options}});
    EXPECT_FALSE(params.ok()) << options;
  }
}

TEST(BackendStartupParameters, RefusesOptionSettingWithoutValueOrName) {
  EXPECT_FALSE(backend_parameters({{"options", "-c work_mem"}}).ok());
  EXPECT_FALSE(backend_parameters({{"options", "--=x"}}).ok());
  EXPECT_FALSE(backend_parameters({{"options", "-c =x"}}).ok());
}

TEST(BackendStartupParameters, RefusesReplication) {
  for (std::string_view value : {"true", "database", "0"}) {
    const auto params = backend_parameters({{"replication", value}});
    ASSERT_FALSE(params.ok()) << value;
    EXPECT_NE(params.error().message.find("replication"), std::string::npos);
  }
}

TEST(BackendStartupParameters, DropsProtocolExtensions) {
  const auto params = backend_parameters({{"_pq_.compression", "on"}, {"client_encoding", "UTF8"}});
  ASSERT_TRUE(params.ok()) << params.error().message;
  EXPECT_EQ(
      *params,
      (ParameterList{{"user", "svc_user"}, {"database", "svc_db"}, {"client_encoding", "UTF8"}}));
}

TEST(BackendStartupParameters, ForwardsEmptyOptions) {
  const auto params = backend_parameters({{"options", "   "}});
  ASSERT_TRUE(params.ok()) << params.error().message;
  EXPECT_EQ(params->size(), 2u);
}

TEST(SplitOptions, SplitsOnUnescapedWhiteSpace) {
  EXPECT_EQ(split_options("  -c a=b\t--c-d=e \n -cfoo=bar  "),
            (std::vector<std::string>{"-c", "a=b", "--c-d=e", "-cfoo=bar"}));
}

TEST(SplitOptions, BackslashEscapesTheNextCharacter) {
  EXPECT_EQ(split_options(R"(-c x=a\ b\\c\ )"), (std::vector<std::string>{"-c", R"(x=a b\c )"}));
  EXPECT_EQ(split_options(R"(\ )"), (std::vector<std::string>{" "}));
}

TEST(SplitOptions, ReturnsNothingForBlankInput) {
  EXPECT_TRUE(split_options("").empty());
  EXPECT_TRUE(split_options(" \t\n").empty());
}

}  // namespace
}  // namespace portcullis::proto::postgres
