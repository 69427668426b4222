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
