// The sub-commands of the `portcullis` binary. Each file registers one command on the CLI11
// app; its callback exits with the status INTERFACE.md gives (0 ok, 1 failed check or refused
// action, 2 bad usage or config) by throwing CommandExit.
#pragma once

#include <CLI/CLI.hpp>
#include <filesystem>
#include <string>

#include "common/result.h"
#include "config/config.h"

namespace portcullis::cli {

struct GlobalOptions {
  std::string config_path = "portcullis.yaml";  // --config, or env PORTCULLIS_CONFIG
};

// Thrown by a command to end the program with `status`; main() catches it.
struct CommandExit {
  int status;
};

// Loads and validates the configuration; on failure prints each problem to stderr as
// `FILE:LINE: message` and throws CommandExit{2}.
config::ConfigPtr load_config_or_exit(const GlobalOptions& options);

// Loads and validates `file` with every check of load_config_or_exit (masking names and
// regexes, front ends built in), for a reload that must not end the program.
Result<config::ConfigPtr> load_checked_config(const std::filesystem::path& file);

void add_serve_command(CLI::App& app, GlobalOptions& options);
void add_check_config_command(CLI::App& app, GlobalOptions& options);
void add_token_command(CLI::App& app, GlobalOptions& options);
void add_apikey_command(CLI::App& app, GlobalOptions& options);
void add_audit_command(CLI::App& app, GlobalOptions& options);
void add_kubeconfig_command(CLI::App& app, GlobalOptions& options);
// Through the REST API (--api, --token): no configuration file is read.
void add_review_command(CLI::App& app);
void add_sessions_command(CLI::App& app);
void add_revoke_command(CLI::App& app);
void add_ssh_command(CLI::App& app);
// `ssh keys ...`, under the `ssh` command (ssh_keys_command.cc).
void add_ssh_keys_command(CLI::App& ssh);

}  // namespace portcullis::cli
