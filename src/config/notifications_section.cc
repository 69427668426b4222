// `notifications`: webhooks that tell reviewers a statement or a request waits for them.
#include <fmt/format.h>

#include "config/sections.h"

namespace portcullis::config {
namespace {

constexpr std::array<EnumName<WebhookFormat>, 2> kWebhookFormats{{
    {"json", WebhookFormat::json},
    {"slack", WebhookFormat::slack},
}};

}  // namespace

void read_notifications(Reader& r, const Value& v, NotificationsConfig& notifications) {
  Fields f = r.fields(v, {"webhooks", "api_url"});
  if (const Value* x = f.find("api_url")) {
    if (auto s = r.read_string(*x)) notifications.api_url = *s;
  }
  const Value* webhooks = f.find("webhooks");
  if (webhooks == nullptr) return;
  r.for_each_item(*webhooks, [&](const Value& item) {
    Fields w = r.fields(item, {"name", "url", "format", "timeout", "max_attempts"});
    WebhookConfig webhook;
    webhook.line = w.line();
    if (!r.require_name(w, "url", webhook.url)) return;
    if (!webhook.url.starts_with("http://") && !webhook.url.starts_with("https://")) {
      r.problem(*w.find("url"),
                fmt::format("{}.url: expected an http:// or https:// URL", item.path));
      return;
    }
    if (const Value* x = w.find("name")) {
      if (auto s = r.read_name(*x)) webhook.name = *s;
    }
    if (const Value* x = w.find("format")) {
      if (auto format = r.read_enum(*x, kWebhookFormats)) webhook.format = *format;
    }
    if (const Value* x = w.find("timeout")) {
      if (auto d = r.read_duration(*x, false)) webhook.timeout = *d;
    }
    if (const Value* x = w.find("max_attempts")) {
      if (auto n = r.read_count(*x, 1)) webhook.max_attempts = *n;
    }
    // Named after its host when unnamed: the URL itself may hold a secret (Slack's do).
    if (webhook.name.empty()) {
      std::string_view host = webhook.url;
      host.remove_prefix(host.find("://") + 3);
      host = host.substr(0, host.find_first_of("/?#"));
      if (const auto at = host.rfind('@'); at != std::string_view::npos) host.remove_prefix(at + 1);
      webhook.name = std::string(host);
    }
    notifications.webhooks.push_back(std::move(webhook));
  });
}

}  // namespace portcullis::config
