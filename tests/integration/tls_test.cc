// TLS on both sides of the gateway: clients verifying the gateway's certificate, and the
// gateway verifying the backend's.
#include <fmt/format.h>
#include <gtest/gtest.h>
#include <libpq-fe.h>

#include "gateway_fixture.h"
#include "support/postgres_server.h"
#include "support/test_certificates.h"

namespace portcullis::testing {
namespace {

std::string tls_section(const TestCertificates& certs, std::string_view plaintext) {
  return fmt::format("tls:\n  cert_file: {}\n  key_file: {}\n  plaintext: {}\n",
                     certs.cert_file().string(), certs.key_file().string(), plaintext);
}

TEST(TlsTest, ClientVerifiesTheGatewayCertificate) {
  TestCertificates certs;
  PostgresServer postgres;
  GatewayOptions options;
  options.tls_section = tls_section(certs, "loopback");
  GatewayProcess gateway(postgres, options);
  const auto token = gateway.issue_token("alice");
  auto result = gateway.psql(
      "alice", token, {"-c", "select 'over tls'"}, "app-db",
      fmt::format("host=localhost sslmode=verify-full sslrootcert={}", certs.ca_file().string()));
  ASSERT_TRUE(result.ok()) << result.describe();
  EXPECT_EQ(result.stdout_text, "over tls\n");

  PGconn* conn =
      PQconnectdb(gateway
                      .conninfo("alice", token, "app-db",
                                fmt::format("host=localhost sslmode=verify-full sslrootcert={}",
                                            certs.ca_file().string()))
                      .c_str());
  ASSERT_EQ(PQstatus(conn), CONNECTION_OK) << PQerrorMessage(conn);
  EXPECT_EQ(PQsslInUse(conn), 1);
  PQfinish(conn);

  // A client that trusts another CA refuses the gateway.
  TestCertificates other;
  auto refused = gateway.psql(
      "alice", token, {"-c", "select 1"}, "app-db",
      fmt::format("host=localhost sslmode=verify-full sslrootcert={}", other.ca_file().string()));
  EXPECT_FALSE(refused.ok());
  EXPECT_NE(refused.stderr_text.find("certificate verify failed"), std::string::npos)
      << refused.stderr_text;
}

TEST(TlsTest, PlainConnectionsAreRefusedWhenTlsIsRequired) {
  TestCertificates certs;
  PostgresServer postgres;
  GatewayOptions options;
  options.tls_section = tls_section(certs, "never");
  GatewayProcess gateway(postgres, options);
  const auto token = gateway.issue_token("alice");
  auto refused = gateway.psql("alice", token, {"-c", "select 1"}, "app-db", "sslmode=disable");
  EXPECT_FALSE(refused.ok());
  EXPECT_NE(refused.stderr_text.find("requires TLS"), std::string::npos) << refused.stderr_text;
  auto accepted = gateway.psql("alice", token, {"-c", "select 1"}, "app-db", "sslmode=require");
  EXPECT_TRUE(accepted.ok()) << accepted.describe();
}

TEST(TlsTest, GatewayVerifiesTheBackendCertificate) {
  TestCertificates certs;
  PostgresOptions pg;
  pg.ssl = true;
  pg.ssl_cert_file = certs.cert_file();
  pg.ssl_key_file = certs.key_file();
  PostgresServer postgres(pg);

  GatewayOptions options;
  options.backend_tls = "verify-full";
  options.backend_ca_file = certs.ca_file();
  GatewayProcess gateway(postgres, options);
  const auto token = gateway.issue_token("alice");
  auto result = gateway.psql("alice", token,
                             {"-c", "select ssl from pg_stat_ssl where pid = pg_backend_pid()"});
  ASSERT_TRUE(result.ok()) << result.describe();
  EXPECT_EQ(result.stdout_text, "t\n");
}

TEST(TlsTest, BackendWithAnUntrustedCertificateIsRefused) {
  TestCertificates certs;
  TestCertificates other;
  PostgresOptions pg;
  pg.ssl = true;
  pg.ssl_cert_file = certs.cert_file();
  pg.ssl_key_file = certs.key_file();
  PostgresServer postgres(pg);

  GatewayOptions options;
  options.backend_tls = "verify-full";
  options.backend_ca_file = other.ca_file();
  GatewayProcess gateway(postgres, options);
  const auto token = gateway.issue_token("alice");
  auto result = gateway.psql("alice", token, {"-c", "select 1"});
  EXPECT_FALSE(result.ok());
  EXPECT_NE(result.stderr_text.find("is unavailable: TLS handshake failed"), std::string::npos)
      << result.stderr_text;
}

TEST(TlsTest, RequireUsesTlsWithoutVerifying) {
  TestCertificates certs;
  PostgresOptions pg;
  pg.ssl = true;
  pg.ssl_cert_file = certs.cert_file();
  pg.ssl_key_file = certs.key_file();
  PostgresServer postgres(pg);
  GatewayOptions options;
  options.backend_tls = "require";
  GatewayProcess gateway(postgres, options);
  const auto token = gateway.issue_token("alice");
  auto result = gateway.psql("alice", token,
                             {"-c", "select ssl from pg_stat_ssl where pid = pg_backend_pid()"});
  ASSERT_TRUE(result.ok()) << result.describe();
  EXPECT_EQ(result.stdout_text, "t\n");
}

}  // namespace
}  // namespace portcullis::testing
