// Webhook URLs taken apart for a request, and refused without being repeated.
#include <gtest/gtest.h>

#include "review/webhook_client.h"

namespace portcullis::review {
namespace {

TEST(WebhookUrl, TakesHostPortAndTarget) {
  auto url = parse_webhook_url("https://hooks.slack.com/services/T0/B0/secret?x=1#frag");
  ASSERT_TRUE(url) << url.error().message;
  EXPECT_TRUE(url->tls);
  EXPECT_EQ(url->host, "hooks.slack.com");
  EXPECT_EQ(url->port, "443");
  EXPECT_EQ(url->host_header, "hooks.slack.com");
  EXPECT_EQ(url->target, "/services/T0/B0/secret?x=1");
}

TEST(WebhookUrl, KeepsAWrittenPortAndDefaultsThePath) {
  auto url = parse_webhook_url("http://127.0.0.1:8080");
  ASSERT_TRUE(url) << url.error().message;
  EXPECT_FALSE(url->tls);
  EXPECT_EQ(url->host, "127.0.0.1");
  EXPECT_EQ(url->port, "8080");
  EXPECT_EQ(url->host_header, "127.0.0.1:8080");
  EXPECT_EQ(url->target, "/");
}

TEST(WebhookUrl, TakesIpv6Literals) {
  auto url = parse_webhook_url("http://[::1]:9000/hook");
  ASSERT_TRUE(url) << url.error().message;
  EXPECT_EQ(url->host, "::1");
  EXPECT_EQ(url->port, "9000");
  EXPECT_EQ(url->host_header, "[::1]:9000");
}

TEST(WebhookUrl, RefusesWithoutRepeatingTheUrl) {
  for (const char* bad : {"ftp://example.com/secret-token", "https://user:secret-token@host/x",
                          "not a url secret-token", "http:///secret-token"}) {
    auto url = parse_webhook_url(bad);
    ASSERT_FALSE(url) << bad;
    EXPECT_EQ(url.error().message.find("secret-token"), std::string::npos) << url.error().message;
  }
}

}  // namespace
}  // namespace portcullis::review
