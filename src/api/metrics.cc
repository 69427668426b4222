// GET /metrics: what the gateway counts now, in the Prometheus text exposition format
// (version 0.0.4). The journal's counters start at zero with the process, as Prometheus
// counters may.
#include <fmt/format.h>

#include <string>
#include <string_view>

#include "api/endpoints.h"

#ifndef PORTCULLIS_VERSION
#define PORTCULLIS_VERSION "unknown"
#endif

namespace portcullis::api {
namespace {

void add_metric(std::string& out, std::string_view name, std::string_view type,
                std::string_view help, std::string_view samples) {
  out += fmt::format("# HELP {} {}\n# TYPE {} {}\n{}", name, help, name, type, samples);
}

std::string sample(std::string_view name, auto value) {
  return fmt::format("{} {}\n", name, value);
}

}  // namespace

boost::asio::awaitable<std::optional<Response>> get_metrics(Call& call) {
  std::string out;
  if (const auto& journal = call.services.journal) {
    const auto stats = journal->stats();
    add_metric(out, "portcullis_audit_events_total", "counter",
               "Audit records committed to the journal.",
               sample("portcullis_audit_events_total", stats.events));
    add_metric(out, "portcullis_audit_commits_total", "counter",
               "Journal transactions committed (one fsync each).",
               sample("portcullis_audit_commits_total", stats.commits));
    add_metric(out, "portcullis_audit_failures_total", "counter",
               "Journal transactions that failed.",
               sample("portcullis_audit_failures_total", stats.failures));
    add_metric(out, "portcullis_audit_healthy", "gauge",
               "1 while the journal takes writes; 0 while every command is refused.",
               sample("portcullis_audit_healthy", journal->healthy() ? 1 : 0));
    add_metric(out, "portcullis_audit_queue_depth", "gauge",
               "Events handed to the journal and not yet committed.",
               sample("portcullis_audit_queue_depth", stats.queued));
    add_metric(out, "portcullis_audit_backlogged", "gauge",
               "1 while so many events wait for the journal that sessions wait for their commit.",
               sample("portcullis_audit_backlogged", journal->backlogged() ? 1 : 0));
    add_metric(out, "portcullis_audit_last_seq", "gauge",
               "Sequence number of the last record committed.",
               sample("portcullis_audit_last_seq", stats.last_seq));
  }
  std::string sessions;
  for (const auto& [protocol, count] : call.services.active_sessions)
    sessions +=
        fmt::format("portcullis_sessions_active{{protocol=\"{}\"}} {}\n", protocol, count());
  if (const auto* metrics = call.services.metrics) {
    std::string verdicts;
    for (std::size_t i = 0; i < GatewayMetrics::kVerdicts.size(); ++i)
      verdicts += fmt::format("portcullis_commands_total{{verdict=\"{}\"}} {}\n",
                              GatewayMetrics::kVerdicts[i], metrics->verdicts(i));
    add_metric(out, "portcullis_commands_total", "counter",
               "Commands decided, by the verdict recorded for them.", verdicts);
    std::string histogram;
    std::uint64_t cumulative = 0;
    for (std::size_t i = 0; i <= GatewayMetrics::kLatencyBoundsUs.size(); ++i) {
      cumulative += metrics->latency_bucket(i);
      const std::string bound =
          i < GatewayMetrics::kLatencyBoundsUs.size()
              ? fmt::format("{}", static_cast<double>(GatewayMetrics::kLatencyBoundsUs[i]) / 1e6)
              : "+Inf";
      histogram +=
          fmt::format("portcullis_decision_seconds_bucket{{le=\"{}\"}} {}\n", bound, cumulative);
    }
    histogram +=
        fmt::format("portcullis_decision_seconds_sum {}\n", metrics->latency_sum_seconds());
    histogram += fmt::format("portcullis_decision_seconds_count {}\n", cumulative);
    add_metric(out, "portcullis_decision_seconds", "histogram",
               "Time from a command's arrival to its decision (classification included).",
               histogram);
    std::string masked;
    for (const auto& [detector, count] : metrics->masked())
      masked +=
          fmt::format("portcullis_masked_values_total{{detector=\"{}\"}} {}\n", detector, count);
    add_metric(out, "portcullis_masked_values_total", "counter",
               "Values masked in results, by detector or column rule.", masked);
  }
  if (call.services.reviews)
    add_metric(out, "portcullis_reviews_pending", "gauge",
               "Reviews (held statements and access requests) waiting for a decision.",
               sample("portcullis_reviews_pending", call.services.reviews->pending()));
  add_metric(out, "portcullis_sessions_active", "gauge", "Client sessions open, by protocol.",
             sessions);
  if (call.services.api_connections)
    add_metric(out, "portcullis_api_connections_active", "gauge",
               "Connections open to the REST API (streams included).",
               sample("portcullis_api_connections_active", call.services.api_connections()));
  add_metric(out, "portcullis_build_info", "gauge", "The running build; always 1.",
             fmt::format("portcullis_build_info{{version=\"{}\"}} 1\n", PORTCULLIS_VERSION));
  co_return make_response(http::status::ok, std::move(out),
                          "text/plain; version=0.0.4; charset=utf-8");
}

}  // namespace portcullis::api
