// The prodsprint command line: the root's flags and help, the commands
// (cli/commands.cc lists them), dispatch and exit codes (docs/CLI.md).
#include "cli/app.h"

#include <signal.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <string_view>

#include "cli/backends.h"
#include "cli/command.h"
#include "cli/output.h"
#include "cli/session.h"

namespace ps::cli {
namespace {

void OnSignal(int) { g_interrupted = true; }

void InstallSignalHandlers() {
  struct sigaction sa {};
  sa.sa_handler = OnSignal;
  sigemptyset(&sa.sa_mask);
  sa.sa_flags = SA_RESETHAND;  // a second Ctrl-C kills at once
  sigaction(SIGINT, &sa, nullptr);
  sigaction(SIGTERM, &sa, nullptr);
}

int Finish(const Result<int>& r, bool json) {
  if (r.ok()) return *r;
  PrintProblem(r.problem(), json);
  // Work stopped by Ctrl-C or SIGTERM exits 130, whatever layer noticed.
  if (g_interrupted && r.problem().Is("cancelled")) return kExitInterrupted;
  return ExitCodeFor(r.problem());
}

}  // namespace

int Main(int argc, char** argv) {
  InstallSignalHandlers();
  RegisterBackends();
  GuardTerminalOutput();
  CLI::App app{
      "ProdSprint takes a repository to production safely: it reads the repo, plans the build, "
      "CI,\n"
      "infrastructure and cost, provisions staging, runs readiness gates and releases with\n"
      "canary or blue/green strategies that roll back by themselves.\n\n"
      "State lives in .prodsprint/ of the working folder (--state or PRODSPRINT_STATE_DIR to\n"
      "change). Every reporting command takes --json. Exit codes: 0 ok, 1 failed, 2 invalid\n"
      "input or configuration, 3 not found, 4 state store problem, 5 conflict, 130 interrupted.",
      "prodsprint"};
  app.set_version_flag("--version", std::string("prodsprint ") + PS_VERSION);
  app.require_subcommand(1);
  app.fallthrough();
  Options o;
  app.add_option("--state", o.state, "State folder (default: .prodsprint of the working folder)");
  app.add_option("--config", o.config, "Configuration file (default: prodsprint.yaml)");
  app.add_option("--org", o.org, "Organisation to work in")->capture_default_str();
  app.add_option("--workspace", o.workspace, "Workspace to work in")->capture_default_str();
  Commands commands(app, o);
  RegisterCommands(commands);

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    // With --json, a usage error is a Problem on stdout like any other.
    const bool want_json = std::any_of(
        argv + 1, argv + argc, [](const char* a) { return std::string_view(a) == "--json"; });
    if (want_json && e.get_exit_code() != 0) {
      PrintProblem(
          Problem::Make("usage", "Usage error", 400, std::string(e.what()) + " (see --help)"),
          true);
      return kExitUsage;
    }
    int rc = app.exit(e);
    return rc == 0 ? kExitOk : kExitUsage;
  }

  for (const auto& c : commands.entries()) {
    if (!c.sub->parsed()) continue;
    return Finish(c.run(), c.json && *c.json);
  }
  return kExitUsage;
}

}  // namespace ps::cli
