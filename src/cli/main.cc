// portcullis: the gateway binary. Sub-commands are registered by their own files.
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

#include <CLI/CLI.hpp>
#include <cstdio>
#include <iostream>

#include "cli/commands.h"
#include "cli/version.h"

namespace {

// Logs go to stderr, one line an event, UTC timestamps; stdout stays for command output
// (`TOKEN=$(portcullis token issue ...)`).
void setup_logging() {
  auto logger = spdlog::stderr_logger_mt("portcullis");
  logger->set_pattern("%Y-%m-%dT%H:%M:%S.%fZ %l %v", spdlog::pattern_time_type::utc);
  spdlog::set_default_logger(logger);
  if (const char* level = std::getenv("PORTCULLIS_LOG_LEVEL"))
    spdlog::set_level(spdlog::level::from_str(level));
}

}  // namespace

int main(int argc, char** argv) {
  setup_logging();
  using portcullis::cli::CommandExit;
  CLI::App app{"portcullis: an access gateway that decides, records and masks every command"};
  app.require_subcommand(1);
  app.set_help_all_flag("--help-all", "show help for every command");
  app.set_version_flag("--version", portcullis::cli::kVersionText,
                       "print the version and the commit built from, then exit");
  portcullis::cli::GlobalOptions options;
  app.add_option("--config", options.config_path, "configuration file")
      ->envname("PORTCULLIS_CONFIG")
      ->capture_default_str();
  app.fallthrough();

  portcullis::cli::add_serve_command(app, options);
  portcullis::cli::add_check_config_command(app, options);
  portcullis::cli::add_token_command(app, options);
  portcullis::cli::add_apikey_command(app, options);
  portcullis::cli::add_audit_command(app, options);
  portcullis::cli::add_kubeconfig_command(app, options);
  portcullis::cli::add_review_command(app);
  portcullis::cli::add_sessions_command(app);
  portcullis::cli::add_revoke_command(app);
  portcullis::cli::add_ssh_command(app);

  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    std::cerr << "portcullis: " << e.what() << "\n";
    return 2;
  } catch (const CommandExit& exit) {
    std::fflush(stdout);
    return exit.status;
  }
  std::fflush(stdout);
  return 0;
}
