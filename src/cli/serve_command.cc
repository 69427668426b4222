// `portcullis serve`: run the gateway in the foreground until SIGTERM or SIGINT; SIGHUP
// reloads the configuration.
#include <fmt/format.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <csignal>
#include <iostream>

#include "api/server.h"
#include "audit/journal.h"
#include "audit/jsonl_exporter.h"
#include "cli/commands.h"
#include "config/loader.h"
#include "gateway/context.h"
#include "gateway/front_end.h"
#include "gateway/instance_events.h"
#include "gateway/live_sessions.h"
#include "identity/authenticator.h"
#include "identity/ssh_certificate_authority.h"
#include "net/descriptor_limit.h"
#include "net/io_threads.h"
#include "proto/front_ends.h"
#include "review/notifier.h"
#include "review/reviews.h"
#include "store/journal_store.h"
#include "store/state_store.h"

namespace portcullis::cli {
namespace {

struct ServeOptions {
  std::size_t threads = 0;
};

// Everything built from one configuration snapshot.
struct Snapshot {
  std::shared_ptr<const gateway::GatewayContext> gateway;
  std::shared_ptr<const api::ApiContext> api;
};

// Where `protocol`'s front end listens, when the configuration says.
std::optional<config::Endpoint> listen_endpoint(const config::Config& config,
                                                std::string_view protocol) {
  if (const auto* listen = config.listen.find(protocol)) return *listen;
  return std::nullopt;
}

Result<Snapshot> build_snapshot(config::ConfigPtr config, store::StateStore& store,
                                gateway::GatewayServices services) {
  auto authenticator = identity::make_authenticator(*config, store, /*create_signing_key=*/true);
  if (!authenticator) return authenticator.error();
  std::shared_ptr<const identity::Authenticator> shared_authenticator(std::move(*authenticator));
  auto gateway = gateway::make_gateway_context(config, shared_authenticator, std::move(services));
  if (!gateway) return gateway.error();
  // The API takes tokens exactly as the front ends do, and presents the same certificate.
  auto api = std::make_shared<const api::ApiContext>(
      api::ApiContext{config, std::move(shared_authenticator), (*gateway)->client_tls, *gateway});
  return Snapshot{std::move(*gateway), std::move(api)};
}

// The journal lives as long as the process: reloads keep it (a changed `checkpoint_every`
// takes effect at the next start).
Result<std::shared_ptr<audit::Journal>> open_journal(const config::Config& config) {
  auto key = identity::load_signing_key(config.identity.signing_key_file, /*create=*/true);
  if (!key) return key.error();
  store::JournalStoreOptions store_options;
  store_options.instance = config.instance;
  store_options.appends_chain = true;
  auto store = store::open_journal_store(config.state_url, store_options);
  if (!store) return store.error();
  audit::JournalOptions options;
  options.dir = config.audit.journal_dir;
  options.segment_size = config.audit.segment_size;
  options.checkpoint_every = config.audit.checkpoint_every;
  options.instance = config.instance;
  // A store shared by several instances in strict mode: a record counts once the others can
  // see it, so commands are refused while the store cannot take it.
  options.index_required = !config.state_url.starts_with("sqlite://") &&
                           config.audit.durability == config::AuditDurability::strict;
  auto journal = audit::Journal::start(std::move(*store), std::move(*key), options);
  if (!journal) return journal.error();
  return std::shared_ptr<audit::Journal>(std::move(*journal));
}

// One exporter per `audit.exporters` entry, each on its own store connection. A file that
// disagrees with the journal (ahead of it, or another record at its last seq) stops the
// start: copying on past a rewritten journal would hide the rewrite.
Result<std::vector<std::unique_ptr<audit::JsonlExporter>>> start_exporters(
    const config::Config& config) {
  std::vector<std::unique_ptr<audit::JsonlExporter>> exporters;
  for (const auto& exporter : config.audit.exporters) {
    store::JournalStoreOptions store_options;
    store_options.instance = config.instance;
    auto store = store::open_journal_store(config.state_url, store_options);
    if (!store) return store.error();
    audit::JsonlExporterOptions options;
    options.path = exporter.path;
    options.checkpoint_every = config.audit.checkpoint_every;
    auto started = audit::JsonlExporter::start(std::move(*store), options);
    if (!started)
      return make_error(
          fmt::format("audit exporter {}: {}", exporter.path.string(), started.error().message));
    exporters.push_back(std::move(*started));
  }
  return exporters;
}

// Raises the open-file limit as far as allowed and returns how many sessions it leaves room
// for. A limit too low for limits.max_connections is said once, at start, where an operator
// looks: later it would only show as refused connections.
std::size_t prepare_descriptors(const config::Config& config) {
  const auto limit = net::raise_descriptor_limit();
  if (!limit.error.empty())
    spdlog::warn("event=descriptor_limit_unchanged error=\"{}\"", limit.error);
  const std::size_t sessions = net::sessions_within(limit.soft);
  spdlog::info("event=descriptor_limit soft={} hard={} raised={} sessions={}", limit.soft,
               limit.hard, limit.raised ? "yes" : "no", sessions);
  const std::size_t wanted = config.limits.max_connections;
  if (sessions < wanted) {
    const std::size_t needed = wanted * net::kDescriptorsPerSession + net::kDescriptorReserve;
    spdlog::warn(
        "event=descriptor_limit_low open_files={} max_connections={} sessions_capped_at={} "
        "hint=\"raise the hard open-file limit to at least {} (LimitNOFILE= in a systemd unit, "
        "ulimit -Hn, or the container's nofile ulimit), or lower limits.max_connections\"",
        limit.soft, wanted, sessions, needed);
  }
  return sessions;
}

int serve(const GlobalOptions& global, const ServeOptions& options) {
  // Signals are taken synchronously by this thread alone: blocked before any other thread
  // starts (the journal's, the reviews', the I/O threads), so that every thread inherits the
  // mask. A thread without it could take a SIGHUP itself, whose default action ends the
  // process.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGHUP);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  std::signal(SIGPIPE, SIG_IGN);
  // A file-size limit reached shows as a failed write the journal answers by refusing
  // commands until it can write again, not as the process killed.
  std::signal(SIGXFSZ, SIG_IGN);

  auto config = load_config_or_exit(global);
  bool listens = false;
  for (const auto& entry : proto::front_ends())
    listens = listens || listen_endpoint(*config, entry.protocol).has_value();
  if (!listens) {
    std::cerr << "portcullis: " << config->source_file.string()
              << ": no listener configured (listen.postgres)\n";
    return 2;
  }
  const std::size_t session_room = prepare_descriptors(*config);
  auto store = store::open_state_store(config->state_url);
  if (!store) {
    std::cerr << "portcullis: cannot open the state store: " << store.error().message << "\n";
    return 1;
  }
  auto journal = open_journal(*config);
  if (!journal) {
    std::cerr << "portcullis: cannot open the audit journal: " << journal.error().message << "\n";
    return 1;
  }
  // Exporters follow the index: it holds everything the segments do before they start (a
  // rebuilt index takes a while; a file ahead of a lagging index would be refused).
  if (!config->audit.exporters.empty() && !(*journal)->wait_indexed(std::chrono::minutes(30))) {
    std::cerr << "portcullis: the audit index did not catch up with the journal in 30 minutes; "
                 "the exporters cannot start\n";
    return 1;
  }
  auto exporters = start_exporters(*config);
  if (!exporters) {
    std::cerr << "portcullis: " << exporters.error().message << "\n";
    return 1;
  }
  // The approval workflow and the live sessions outlive reloads, like the journal.
  std::atomic<std::shared_ptr<const config::Config>> current_config{config};
  std::unique_ptr<review::Notifier> notifier;
  try {
    notifier = std::make_unique<review::Notifier>();
  } catch (const std::exception& e) {
    std::cerr << "portcullis: cannot start webhook notifications: " << e.what() << "\n";
    return 1;
  }
  notifier->set_targets(config->notifications.webhooks);
  review::ReviewsWiring wiring;
  wiring.store = store->get();
  wiring.journal = journal->get();
  wiring.instance = config->instance;
  wiring.notify = [&notifier](review::Notification n) { notifier->notify(std::move(n)); };
  wiring.config = [&current_config] { return current_config.load(); };
  auto reviews = std::make_shared<review::Reviews>(std::move(wiring));
  auto live_sessions = std::make_shared<gateway::LiveSessions>();
  // A reload asked by another instance (or POST /api/v1/reload) is a SIGHUP to this process:
  // the one reload path below.
  auto reload = [] { ::kill(::getpid(), SIGHUP); };
  // Other instances sharing the store are told of reviews decided here: started before
  // anything can decide one (the expiry thread, the API), and destroyed before the reviews
  // and sessions it holds on to.
  auto started_events = gateway::InstanceEvents::start(
      config->state_url, config->instance,
      gateway::InstanceEventsWiring{store->get(), reviews, live_sessions, reload});
  if (!started_events) {
    std::cerr << "portcullis: cannot listen to the other instances: "
              << started_events.error().message << "\n";
    return 1;
  }
  std::unique_ptr<gateway::InstanceEvents> instance_events = std::move(*started_events);
  reviews->start_expiry();
  auto metrics = std::make_shared<GatewayMetrics>();
  // The SSH user CA: its key is created on first start, like the token signing key. A key
  // that cannot be read leaves certificates unavailable (the API and the SSH listener say
  // so), nothing else.
  std::shared_ptr<const identity::SshCertificateAuthority> ssh_ca;
  if (config->listen.http || listen_endpoint(*config, "ssh")) {
    if (auto loaded = identity::SshCertificateAuthority::load(config->identity.ssh.ca_key_file))
      ssh_ca = std::make_shared<const identity::SshCertificateAuthority>(std::move(*loaded));
    else
      spdlog::error("event=ssh_ca_unavailable file={} reason=\"{}\"",
                    config->identity.ssh.ca_key_file.string(), loaded.error().message);
  }
  const gateway::GatewayServices services{*journal, reviews, live_sessions, metrics, ssh_ca};

  auto snapshot = build_snapshot(config, **store, services);
  if (!snapshot) {
    std::cerr << "portcullis: " << snapshot.error().message << "\n";
    return 2;
  }

  net::IoThreads threads(options.threads);
  // The front ends the configuration listens for, from the table of src/proto/front_ends.cc.
  struct Running {
    std::string_view protocol;
    std::optional<config::Endpoint> listen;  // none: serves the MCP endpoint's tools only
    std::unique_ptr<gateway::FrontEnd> front_end;
  };
  std::vector<Running> front_ends;
  for (const auto& entry : proto::front_ends()) {
    auto listen = listen_endpoint(*config, entry.protocol);
    // The MCP endpoint's tools reach targets through their front ends, which then run
    // without a listener of their own when the configuration names none.
    const bool for_mcp = entry.serves_mcp && config->listen.http;
    if (!listen && !for_mcp) continue;
    front_ends.push_back(Running{
        .protocol = entry.protocol,
        .listen = listen,
        .front_end = entry.make(gateway::FrontEndSetup{
            .threads = threads, .context = snapshot->gateway, .session_cap = session_room})});
  }
  // Listening before the front ends say they are: whoever waits for that may call it.
  std::unique_ptr<api::ApiServer> api_server;
  if (config->listen.http) {
    api::ApiServerOptions api_options;
    api_options.journal = *journal;
    api_options.state = store->get();
    for (const auto& running : front_ends)
      api_options.active_sessions[std::string(running.protocol)] =
          [front_end = running.front_end.get()] { return front_end->active_sessions(); };
    api_options.reviews = reviews.get();
    api_options.live_sessions = live_sessions.get();
    api_options.metrics = metrics.get();
    api_options.ssh_ca = ssh_ca.get();
    api_options.instances = instance_events.get();
    api_options.reload = reload;
    proto::mcp::McpWiring mcp;
    mcp.adopt = [&front_ends](std::string_view protocol,
                              gateway::InProcessConnection connection) -> Result<void> {
      for (auto& running : front_ends)
        if (running.protocol == protocol) return running.front_end->adopt(std::move(connection));
      ::close(connection.fd);
      return make_error(fmt::format("the {} front end does not run here", protocol));
    };
    mcp.reviews = reviews.get();
    api_options.mcp = std::move(mcp);
    auto started =
        api::ApiServer::start(*config->listen.http, snapshot->api, std::move(api_options));
    if (!started) {
      std::cerr << "portcullis: " << started.error().message << "\n";
      return 1;
    }
    api_server = std::move(*started);
  }
  for (auto& running : front_ends) {
    if (!running.listen) continue;
    if (auto started = running.front_end->start(*running.listen); !started) {
      std::cerr << "portcullis: " << running.protocol << ": " << started.error().message << "\n";
      return 1;
    }
  }
  threads.start();
  spdlog::info("event=started config={} state={} threads={}", config->source_file.string(),
               config->state_url, threads.size());

  for (;;) {
    int signal = 0;
    sigwait(&signals, &signal);
    if (signal == SIGHUP) {
      auto reloaded = load_checked_config(config->source_file);
      if (!reloaded) {
        spdlog::error("event=reload_failed reason=\"{}\"", reloaded.error().message);
        continue;
      }
      auto next = build_snapshot(*reloaded, **store, services);
      if (!next) {
        spdlog::error("event=reload_failed reason=\"{}\"", next.error().message);
        continue;
      }
      for (auto& running : front_ends) running.front_end->replace_context(next->gateway);
      if (api_server) api_server->replace_context(next->api);
      config = *reloaded;
      current_config.store(config);
      notifier->set_targets(config->notifications.webhooks);
      spdlog::info("event=reloaded config={}", config->source_file.string());
      continue;
    }
    spdlog::info("event=stopping signal={}", signal == SIGTERM ? "SIGTERM" : "SIGINT");
    break;
  }
  if (api_server) api_server->stop();
  for (auto& running : front_ends) running.front_end->stop();
  threads.release();
  threads.join();
  // The expiry thread tells the other instances, and they tell the reviews: stopped in turn.
  reviews->stop_expiry();
  instance_events.reset();
  reviews.reset();  // its expiry thread journals: stopped before the journal closes
  // After the sessions, before the I/O contexts go: the last events and a signed checkpoint.
  (*journal)->close();
  for (auto& exporter : *exporters) exporter->stop();  // after close: the last checkpoint too
  const auto stats = (*journal)->stats();
  spdlog::info("event=stopped audit_events={} audit_commits={} audit_last_seq={}", stats.events,
               stats.commits, stats.last_seq);
  return 0;
}

}  // namespace

void add_serve_command(CLI::App& app, GlobalOptions& global) {
  auto options = std::make_shared<ServeOptions>();
  auto* command = app.add_subcommand("serve", "run the gateway in the foreground");
  command->add_option("--threads", options->threads, "I/O threads (default: one per core)");
  command->callback([&global, options] {
    const int status = serve(global, *options);
    if (status != 0) throw CommandExit{status};
  });
}

}  // namespace portcullis::cli
