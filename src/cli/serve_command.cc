// `portcullis serve`: run the gateway in the foreground until SIGTERM or SIGINT; SIGHUP
// reloads the configuration.
#include <spdlog/spdlog.h>

#include <csignal>
#include <iostream>

#include "cli/commands.h"
#include "identity/authenticator.h"
#include "net/io_threads.h"
#include "policy/config_loader.h"
#include "proto/postgres/gateway_context.h"
#include "proto/postgres/server.h"
#include "store/state_store.h"

namespace portcullis::cli {
namespace {

struct ServeOptions {
  std::size_t threads = 0;
};

// Everything built from one configuration snapshot.
struct Snapshot {
  std::shared_ptr<const proto::postgres::GatewayContext> postgres;
};

Result<Snapshot> build_snapshot(policy::ConfigPtr config, store::StateStore& store) {
  auto authenticator = identity::make_authenticator(*config, store, /*create_signing_key=*/true);
  if (!authenticator) return authenticator.error();
  auto postgres = proto::postgres::make_gateway_context(
      config, std::shared_ptr<const identity::Authenticator>(std::move(*authenticator)));
  if (!postgres) return postgres.error();
  return Snapshot{std::move(*postgres)};
}

// Settings the configuration accepts whose enforcement is not built yet: say so loudly
// rather than let an operator believe they hold.
void warn_about_unapplied_settings(const policy::Config& config) {
  for (const auto& connection : config.connections)
    if (connection.lockdown)
      spdlog::warn(
          "event=not_enforced setting=lockdown connection={} reason=\"lockdown is "
          "not enforced by this version\"",
          connection.name);
}

int serve(const GlobalOptions& global, const ServeOptions& options) {
  auto config = load_config_or_exit(global);
  if (!config->listen.postgres) {
    std::cerr << "portcullis: " << config->source_file.string()
              << ": no listener configured (listen.postgres)\n";
    return 2;
  }
  auto store = store::open_state_store(config->state_url);
  if (!store) {
    std::cerr << "portcullis: cannot open the state store: " << store.error().message << "\n";
    return 1;
  }
  auto snapshot = build_snapshot(config, **store);
  if (!snapshot) {
    std::cerr << "portcullis: " << snapshot.error().message << "\n";
    return 2;
  }

  // Signals are taken synchronously by this thread alone: block them before the I/O
  // threads start so that they inherit the mask.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGHUP);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  std::signal(SIGPIPE, SIG_IGN);

  net::IoThreads threads(options.threads);
  proto::postgres::Server postgres(threads, snapshot->postgres);
  const auto& listen = *config->listen.postgres;
  if (auto started = postgres.start(listen.host, listen.port); !started) {
    std::cerr << "portcullis: " << started.error().message << "\n";
    return 1;
  }
  threads.start();
  warn_about_unapplied_settings(*config);
  spdlog::info("event=started config={} state={} threads={}", config->source_file.string(),
               config->state_url, threads.size());

  for (;;) {
    int signal = 0;
    sigwait(&signals, &signal);
    if (signal == SIGHUP) {
      auto reloaded = policy::load_config(config->source_file);
      if (!reloaded) {
        spdlog::error("event=reload_failed reason=\"{}\"", reloaded.error().message);
        continue;
      }
      auto next = build_snapshot(*reloaded, **store);
      if (!next) {
        spdlog::error("event=reload_failed reason=\"{}\"", next.error().message);
        continue;
      }
      postgres.replace_context(next->postgres);
      config = *reloaded;
      spdlog::info("event=reloaded config={}", config->source_file.string());
      continue;
    }
    spdlog::info("event=stopping signal={}", signal == SIGTERM ? "SIGTERM" : "SIGINT");
    break;
  }
  postgres.stop();
  threads.release();
  threads.join();
  spdlog::info("event=stopped");
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
