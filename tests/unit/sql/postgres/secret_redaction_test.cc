#include "sql/postgres/secret_redaction.h"

#include <gtest/gtest.h>
#include <pg_query.h>

#include <string>

#include "only_statement.h"
#include "sql/classification_cache.h"
#include "sql/postgres/classifier.h"

namespace portcullis::sql::postgres {
namespace {

std::string redacted(std::string_view sql) {
  return one(sql).redacted_text;
}

// --- statements without secrets ----------------------------------------------------------

TEST(SecretRedactionTest, StatementsWithoutSecretsHaveNoRedactedText) {
  for (std::string_view sql : {
           "SELECT abalance FROM pgbench_accounts WHERE aid = 48213",
           "SELECT 'password=x' AS hint",
           "INSERT INTO users (name, password_hash) VALUES ('bob', 'scrypt$1$abc')",
           "CREATE ROLE reader LOGIN VALID UNTIL '2030-01-01'",
           "ALTER ROLE bob WITH PASSWORD NULL",
           "CREATE USER MAPPING FOR bob SERVER remote OPTIONS (user 'bob')",
           "ALTER USER MAPPING FOR bob SERVER remote OPTIONS (DROP password)",
           "CREATE SERVER remote FOREIGN DATA WRAPPER postgres_fdw OPTIONS (host 'db', port "
           "'5432')",
           "CREATE SUBSCRIPTION sub CONNECTION 'host=db dbname=app' PUBLICATION pub",
           "SELECT dblink_connect('conn', 'host=db dbname=app')",
           "SELECT dblink('conn', 'SELECT password FROM creds')",
           "SET search_path = 'app', public",
           "SET password_encryption = 'scram-sha-256'",
           "RESET my.password",
           "SHOW ssl_passphrase_command",
       }) {
    EXPECT_EQ(redacted(sql), "") << sql;
  }
}

// Settings are a secret only when SET; set_config() calls are left as written (a documented
// limit: docs/policy.md).
TEST(SecretRedactionTest, SetConfigCallsAreNotRedacted) {
  EXPECT_EQ(redacted("SELECT set_config('my.password', 'x', false)"), "");
  EXPECT_EQ(redacted("SELECT pg_catalog.set_config('my.password', 'x', false)"), "");
}

// --- role passwords --------------------------------------------------------------------

TEST(SecretRedactionTest, RolePasswordIsRedactedAndOtherLiteralsKept) {
  EXPECT_EQ(redacted("CREATE ROLE a LOGIN PASSWORD 'x' VALID UNTIL '2030-01-01'"),
            "CREATE ROLE a LOGIN PASSWORD '***' VALID UNTIL '2030-01-01'");
}

TEST(SecretRedactionTest, EveryRoleStatementFormIsRedacted) {
  EXPECT_EQ(redacted("CREATE USER app WITH PASSWORD 'hunter2'"),
            "CREATE USER app WITH PASSWORD '***'");
  EXPECT_EQ(redacted("CREATE GROUP ops WITH PASSWORD 'hunter2'"),
            "CREATE GROUP ops WITH PASSWORD '***'");
  EXPECT_EQ(redacted("ALTER ROLE app ENCRYPTED PASSWORD 'hunter2'"),
            "ALTER ROLE app ENCRYPTED PASSWORD '***'");
  EXPECT_EQ(redacted("ALTER USER app WITH LOGIN ENCRYPTED PASSWORD 'hunter2' CONNECTION LIMIT 3"),
            "ALTER USER app WITH LOGIN ENCRYPTED PASSWORD '***' CONNECTION LIMIT 3");
  EXPECT_EQ(redacted("alter role \"App\" password 'hunter2'"), "alter role \"App\" password '***'");
}

TEST(SecretRedactionTest, QuotingFormsAreCutOutWhole) {
  EXPECT_EQ(redacted("ALTER ROLE a PASSWORD E'it\\'s \\x41'"), "ALTER ROLE a PASSWORD '***'");
  EXPECT_EQ(redacted("ALTER ROLE a PASSWORD 'it''s'"), "ALTER ROLE a PASSWORD '***'");
  EXPECT_EQ(redacted("ALTER ROLE a PASSWORD $$it's$$"), "ALTER ROLE a PASSWORD '***'");
  EXPECT_EQ(redacted("ALTER ROLE a PASSWORD $pw$ $$ 'x' $pw$ VALID UNTIL 'infinity'"),
            "ALTER ROLE a PASSWORD '***' VALID UNTIL 'infinity'");
  EXPECT_EQ(redacted("ALTER ROLE a PASSWORD U&'d\\0061t\\+000061'"), "ALTER ROLE a PASSWORD '***'");
  EXPECT_EQ(redacted("ALTER ROLE a PASSWORD U&'d!0061t' UESCAPE '!' LOGIN"),
            "ALTER ROLE a PASSWORD '***' LOGIN");
  // Two string constants separated by a newline are one literal.
  EXPECT_EQ(redacted("ALTER ROLE a PASSWORD 'hun'\n'ter2' LOGIN"),
            "ALTER ROLE a PASSWORD '***' LOGIN");
  EXPECT_EQ(redacted("ALTER ROLE a PASSWORD /* the new one */ 'hunter2'"),
            "ALTER ROLE a PASSWORD /* the new one */ '***'");
}

TEST(SecretRedactionTest, PasswordThatLooksLikeARedactionIsStillRedacted) {
  std::string r = redacted("CREATE ROLE a PASSWORD '''***'' PASSWORD ''leak''' LOGIN");
  EXPECT_EQ(r, "CREATE ROLE a PASSWORD '***' LOGIN");
  EXPECT_EQ(r.find("leak"), std::string::npos);
}

TEST(SecretRedactionTest, NonAsciiTextBeforeTheSecretKeepsOffsetsInBytes) {
  Classification c = classify("SELECT 'Grüße ☃'; ALTER ROLE \"Jürgen\" PASSWORD 'pw'");
  ASSERT_EQ(c.statements.size(), 2u);
  EXPECT_EQ(c.statements[0].redacted_text, "");
  EXPECT_EQ(c.statements[1].redacted_text, "ALTER ROLE \"Jürgen\" PASSWORD '***'");
}

// --- multi-statement text ----------------------------------------------------------------

TEST(SecretRedactionTest, EachStatementOfAMultiStatementTextIsRedactedOnItsOwnText) {
  Classification c = classify(
      "  /* setup */ SELECT 1;\n  CREATE ROLE a PASSWORD 'p1';\tSET x = 1 ; "
      "ALTER ROLE b PASSWORD 'p2' VALID UNTIL 'never';");
  ASSERT_EQ(c.statements.size(), 4u);
  EXPECT_EQ(c.statements[0].redacted_text, "");
  EXPECT_EQ(c.statements[1].text, "CREATE ROLE a PASSWORD 'p1'");
  EXPECT_EQ(c.statements[1].redacted_text, "CREATE ROLE a PASSWORD '***'");
  EXPECT_EQ(c.statements[2].redacted_text, "");
  EXPECT_EQ(c.statements[3].redacted_text, "ALTER ROLE b PASSWORD '***' VALID UNTIL 'never'");
}

// --- foreign-data options --------------------------------------------------------------

TEST(SecretRedactionTest, UserMappingPasswordsAndSecretOptionsAreRedacted) {
  EXPECT_EQ(
      redacted("CREATE USER MAPPING FOR bob SERVER remote OPTIONS (user 'bob', password 'pw')"),
      "CREATE USER MAPPING FOR bob SERVER remote OPTIONS (user 'bob', password '***')");
  EXPECT_EQ(redacted("ALTER USER MAPPING FOR bob SERVER remote "
                     "OPTIONS (SET password 'pw', ADD api_key 'k', DROP token, ADD user 'bob')"),
            "ALTER USER MAPPING FOR bob SERVER remote "
            "OPTIONS (SET password '***', ADD api_key '***', DROP token, ADD user 'bob')");
  EXPECT_EQ(redacted("CREATE USER MAPPING FOR PUBLIC SERVER s OPTIONS (client_secret 's', "
                     "auth_token 't', sslkey '/k', \"Password\" 'p')"),
            "CREATE USER MAPPING FOR PUBLIC SERVER s OPTIONS (client_secret '***', "
            "auth_token '***', sslkey '***', \"Password\" '***')");
}

TEST(SecretRedactionTest, ServerOptionsWithSecretNamesAreRedacted) {
  EXPECT_EQ(redacted("CREATE SERVER api FOREIGN DATA WRAPPER rest_fdw "
                     "OPTIONS (host 'api.example', api_key 'k-123', secret_token $$t$$)"),
            "CREATE SERVER api FOREIGN DATA WRAPPER rest_fdw "
            "OPTIONS (host 'api.example', api_key '***', secret_token '***')");
  EXPECT_EQ(redacted("ALTER SERVER api OPTIONS (SET api_key 'k-456', ADD port '443')"),
            "ALTER SERVER api OPTIONS (SET api_key '***', ADD port '443')");
}

// --- subscriptions -----------------------------------------------------------------------

TEST(SecretRedactionTest, SubscriptionConninfoWithAPasswordIsRedactedWhole) {
  EXPECT_EQ(redacted("CREATE SUBSCRIPTION sub CONNECTION 'host=db user=rep password=pw' "
                     "PUBLICATION pub WITH (slot_name = 'sub_slot')"),
            "CREATE SUBSCRIPTION sub CONNECTION '***' PUBLICATION pub WITH (slot_name = "
            "'sub_slot')");
  EXPECT_EQ(redacted("ALTER SUBSCRIPTION sub CONNECTION 'postgresql://rep:pw@db/app'"),
            "ALTER SUBSCRIPTION sub CONNECTION '***'");
  // A subscription may be called "connection": the literal is the one after the keyword.
  EXPECT_EQ(redacted("CREATE SUBSCRIPTION connection CONNECTION E'password=pw' PUBLICATION p"),
            "CREATE SUBSCRIPTION connection CONNECTION '***' PUBLICATION p");
}

// --- dblink ------------------------------------------------------------------------------

TEST(SecretRedactionTest, DblinkConnectionStringsWithAPasswordAreRedacted) {
  EXPECT_EQ(redacted("SELECT dblink_connect('conn', 'host=db password=pw')"),
            "SELECT dblink_connect('conn', '***')");
  EXPECT_EQ(redacted("SELECT dblink_connect_u('host=db password=pw')"),
            "SELECT dblink_connect_u('***')");
  EXPECT_EQ(redacted("SELECT * FROM dblink('host=db password=pw', 'SELECT 1') AS t(x int)"),
            "SELECT * FROM dblink('***', 'SELECT 1') AS t(x int)");
  EXPECT_EQ(redacted("SELECT public.dblink_exec('dbname=app password = pw', 'VACUUM')"),
            "SELECT public.dblink_exec('***', 'VACUUM')");
  EXPECT_EQ(redacted("SELECT dblink_connect('postgresql://app:pw@db/app')"),
            "SELECT dblink_connect('***')");
}

TEST(SecretRedactionTest, DblinkArgumentBuiltFromPiecesIsRedactedWhole) {
  EXPECT_EQ(redacted("SELECT dblink_connect('c', 'host=db password=' || 'pw'::text)"),
            "SELECT dblink_connect('c', '***' || '***'::text)");
  EXPECT_EQ(redacted("SELECT dblink(connstr => 'password=pw', sql => 'SELECT 1')"),
            "SELECT dblink(connstr => '***', sql => 'SELECT 1')");
  // PostgreSQL puts a negated constant's location on the sign, strings included.
  EXPECT_EQ(redacted("SELECT dblink(- /* odd */ 'password=pw', 'SELECT 1')"),
            "SELECT dblink(- /* odd */ '***', 'SELECT 1')");
}

TEST(SecretRedactionTest, DblinkCallsNestedInOtherStatementsAreRedacted) {
  EXPECT_EQ(redacted("INSERT INTO t SELECT * FROM dblink('password=pw', 'SELECT 1') AS r(x int)"),
            "INSERT INTO t SELECT * FROM dblink('***', 'SELECT 1') AS r(x int)");
  EXPECT_EQ(redacted("EXPLAIN SELECT dblink_exec('password=pw', 'SELECT 1')"),
            "EXPLAIN SELECT dblink_exec('***', 'SELECT 1')");
  EXPECT_EQ(redacted("CALL dblink_exec('password=pw', 'SELECT 1')"),
            "CALL dblink_exec('***', 'SELECT 1')");
  EXPECT_EQ(redacted("CREATE VIEW v AS SELECT dblink_connect('password=pw')"),
            "CREATE VIEW v AS SELECT dblink_connect('***')");
}

// --- settings ----------------------------------------------------------------------------

TEST(SecretRedactionTest, SecretSettingValuesAreRedacted) {
  EXPECT_EQ(redacted("ALTER SYSTEM SET ssl_passphrase_command = 'echo hunter2'"),
            "ALTER SYSTEM SET ssl_passphrase_command = '***'");
  EXPECT_EQ(redacted("ALTER SYSTEM SET primary_conninfo TO 'host=db password=pw'"),
            "ALTER SYSTEM SET primary_conninfo TO '***'");
  EXPECT_EQ(redacted("SET LOCAL app.api_key = E'k\\'1'"), "SET LOCAL app.api_key = '***'");
  EXPECT_EQ(redacted("SET app.secret TO 'a', -5, hunter2, 1.5"),
            "SET app.secret TO '***', '***', '***', '***'");
  EXPECT_EQ(redacted("ALTER ROLE app SET app.password = 'pw'"),
            "ALTER ROLE app SET app.password = '***'");
  EXPECT_EQ(redacted("ALTER DATABASE app SET app.token = 'tk'"),
            "ALTER DATABASE app SET app.token = '***'");
  EXPECT_EQ(redacted("ALTER FUNCTION f() SET app.password = 'pw'"),
            "ALTER FUNCTION f() SET app.password = '***'");
}

// --- every secret at once --------------------------------------------------------------

TEST(SecretRedactionTest, EverySecretOfAStatementIsRedacted) {
  std::string r = redacted("CREATE ROLE a PASSWORD 'first' LOGIN PASSWORD $$second$$");
  EXPECT_EQ(r, "CREATE ROLE a PASSWORD '***' LOGIN PASSWORD '***'");
}

// What the fuzz target checks: a redacted text holds nothing the redaction would still find,
// so the literal cut out was the secret.
TEST(SecretRedactionTest, RedactedTextHasNothingLeftToRedact) {
  for (std::string_view sql : {
           "CREATE ROLE a LOGIN PASSWORD 'x' VALID UNTIL '2030-01-01'",
           "ALTER ROLE a PASSWORD U&'d!0061t' UESCAPE '!' LOGIN",
           "ALTER USER MAPPING FOR bob SERVER s OPTIONS (SET password 'p', ADD api_key 'k')",
           "CREATE SUBSCRIPTION s CONNECTION 'password=p' PUBLICATION p",
           "SELECT dblink_connect('c', 'host=db password=' || 'pw')",
           "SET app.secret TO 'a', -5, hunter2",
       }) {
    std::string r = redacted(sql);
    ASSERT_FALSE(r.empty()) << sql;
    Statement again = one(r);
    EXPECT_TRUE(again.redacted_text.empty() || again.redacted_text == again.text) << r;
  }
}

// --- fail closed -------------------------------------------------------------------------

TEST(SecretRedactionTest, WithheldTextNamesTheKind) {
  EXPECT_EQ(withheld_text("create_role"), "create_role (text withheld: contains a secret)");
  EXPECT_EQ(withheld_text(""), "statement (text withheld: contains a secret)");
}

TEST(SecretRedactionTest, NoSecretsGiveNoRedactedText) {
  EXPECT_EQ(redact_secret_literals("ALTER ROLE a PASSWORD 'x'", 0, {}, "alter_role"), "");
}

TEST(SecretRedactionTest, ALiteralThatCannotBeLocatedWithholdsTheWholeText) {
  const std::string text = "ALTER ROLE a PASSWORD 'x'";
  // Not the start of a token.
  EXPECT_EQ(redact_secret_literals(text, 0, {{SecretAnchor::literal_at, 23}}, "alter_role"),
            "alter_role (text withheld: contains a secret)");
  // Before the statement's own text.
  EXPECT_EQ(redact_secret_literals(text, 10, {{SecretAnchor::string_after, 5}}, "alter_role"),
            "alter_role (text withheld: contains a secret)");
  // No string within two tokens of the anchor.
  EXPECT_EQ(redact_secret_literals(text, 0, {{SecretAnchor::string_after, 0}}, "alter_role"),
            "alter_role (text withheld: contains a secret)");
  // No CONNECTION keyword.
  EXPECT_EQ(
      redact_secret_literals(text, 0, {{SecretAnchor::string_after_connection, -1}}, "alter_role"),
      "alter_role (text withheld: contains a secret)");
  // One of two cannot be located: nothing of the text is kept.
  EXPECT_EQ(redact_secret_literals(
                text, 0, {{SecretAnchor::string_after, 13}, {SecretAnchor::literal_at, -1}},
                "alter_role"),
            "alter_role (text withheld: contains a secret)");
}

TEST(SecretRedactionTest, TextTheScannerRefusesIsWithheld) {
  EXPECT_EQ(redact_secret_literals("ALTER ROLE a PASSWORD 'x", 0,
                                   {{SecretAnchor::string_after, 13}}, "alter_role"),
            "alter_role (text withheld: contains a secret)");
  EXPECT_EQ(redact_secret_literals(std::string_view("ALTER ROLE a PASSWORD 'x\0'", 26), 0,
                                   {{SecretAnchor::string_after, 13}}, "alter_role"),
            "alter_role (text withheld: contains a secret)");
}

TEST(SecretRedactionTest, LocatedLiteralsAreReplacedRelativeToTheStatementText) {
  // The statement starts at byte 10 of the whole query text.
  EXPECT_EQ(redact_secret_literals("ALTER ROLE a PASSWORD 'x'", 10,
                                   {{SecretAnchor::string_after, 23}}, "alter_role"),
            "ALTER ROLE a PASSWORD '***'");
  // The same literal named twice is replaced once.
  EXPECT_EQ(redact_secret_literals("SET a.key = 'x'", 0,
                                   {{SecretAnchor::literal_at, 12}, {SecretAnchor::literal_at, 12}},
                                   "set"),
            "SET a.key = '***'");
}

// --- cached with the classification -------------------------------------------------------

TEST(SecretRedactionTest, RedactionAndFingerprintAreCachedWithTheClassification) {
  ClassificationCache cache;
  const std::string sql = "CREATE ROLE a PASSWORD 'x'";
  auto first = cache.classify(sql);
  auto second = cache.classify(sql);
  ASSERT_EQ(second->statements.size(), 1u);
  EXPECT_EQ(cache.hits(), 1u);
  EXPECT_EQ(second->statements[0].redacted_text, "CREATE ROLE a PASSWORD '***'");
  EXPECT_EQ(second->statements[0].fingerprint, first->statements[0].fingerprint);
  EXPECT_FALSE(second->statements[0].fingerprint.empty());
}

// --- fingerprints ------------------------------------------------------------------------

std::string libpg_query_fingerprint(const std::string& text) {
  PgQueryFingerprintResult r = pg_query_fingerprint(text.c_str());
  std::string out = r.error == nullptr ? r.fingerprint_str : "";
  pg_query_free_fingerprint_result(r);
  return out;
}

TEST(StatementFingerprintTest, StatementsDifferingOnlyInConstantsShareAFingerprint) {
  std::string a = one("SELECT abalance FROM pgbench_accounts WHERE aid = 48213").fingerprint;
  std::string b = one("select abalance\n  from pgbench_accounts where aid = 7").fingerprint;
  EXPECT_EQ(a.size(), 16u);
  EXPECT_EQ(a, b);
  EXPECT_EQ(one("UPDATE t SET v = 'x' WHERE id = 1").fingerprint,
            one("UPDATE t SET v = 'yy' WHERE id = 2").fingerprint);
}

TEST(StatementFingerprintTest, DifferentTablesGiveDifferentFingerprints) {
  EXPECT_NE(one("SELECT * FROM orders WHERE id = 1").fingerprint,
            one("SELECT * FROM invoices WHERE id = 1").fingerprint);
}

TEST(StatementFingerprintTest, EachStatementIsFingerprintedOnItsOwnText) {
  Classification c = classify("SELECT 1; DELETE FROM t WHERE id = 2; SELECT * FROM u");
  ASSERT_EQ(c.statements.size(), 3u);
  for (const auto& s : c.statements) {
    EXPECT_EQ(s.fingerprint, libpg_query_fingerprint(s.text)) << s.text;
    EXPECT_EQ(s.fingerprint, one(s.text).fingerprint) << s.text;
  }
  EXPECT_NE(c.statements[0].fingerprint, c.statements[2].fingerprint);
}

// pg_query_fingerprint hashes a role's password and an option's value: a statement with
// secrets is fingerprinted on its redacted text, so no hash of a secret is recorded.
TEST(StatementFingerprintTest, SecretsDoNotReachTheFingerprint) {
  ASSERT_NE(libpg_query_fingerprint("CREATE ROLE a PASSWORD 'x'"),
            libpg_query_fingerprint("CREATE ROLE a PASSWORD 'y'"));
  std::string x = one("CREATE ROLE a PASSWORD 'x'").fingerprint;
  EXPECT_EQ(x, one("CREATE ROLE a PASSWORD $$y$$").fingerprint);
  EXPECT_EQ(x, libpg_query_fingerprint("CREATE ROLE a PASSWORD '***'"));
  EXPECT_EQ(one("CREATE SERVER s FOREIGN DATA WRAPPER w OPTIONS (api_key 'a')").fingerprint,
            one("CREATE SERVER s FOREIGN DATA WRAPPER w OPTIONS (api_key 'b')").fingerprint);
  EXPECT_EQ(one("CREATE SUBSCRIPTION s CONNECTION 'password=a' PUBLICATION p").fingerprint,
            one("CREATE SUBSCRIPTION s CONNECTION 'password=b' PUBLICATION p").fingerprint);
  EXPECT_NE(x, one("CREATE ROLE b PASSWORD 'x'").fingerprint);
}

TEST(StatementFingerprintTest, UnparsableTextHasNoFingerprint) {
  Classification c = classify("SELEC 1");
  ASSERT_EQ(c.statements.size(), 1u);
  EXPECT_EQ(c.statements[0].fingerprint, "");
  EXPECT_EQ(c.statements[0].redacted_text, "");
}

}  // namespace
}  // namespace portcullis::sql::postgres
