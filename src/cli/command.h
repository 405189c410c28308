// How a command joins the command line: each command is one file under
// cli/commands/ with a registration function that adds its subcommand (its
// flags, its help) and says what runs when it is chosen. The one list of
// registrations is cli/commands.cc.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "cli/session.h"
#include "core/problem.h"

namespace ps::cli {

class Commands {
 public:
  Commands(CLI::App& app, const Options& options) : app_(app), options_(options) {}
  // The root command line, to add a subcommand to.
  CLI::App& app() { return app_; }
  // The flags every command takes, filled when the line is parsed.
  const Options& options() const { return options_; }
  // `sub` runs `run` when chosen; `json` says whether its output (and so a
  // Problem it returns) is JSON.
  void Add(CLI::App* sub, std::function<Result<int>()> run,
           std::shared_ptr<const bool> json = nullptr);

  struct Entry {
    CLI::App* sub;
    std::function<Result<int>()> run;
    std::shared_ptr<const bool> json;
  };
  const std::vector<Entry>& entries() const { return entries_; }

 private:
  CLI::App& app_;
  const Options& options_;
  std::vector<Entry> entries_;
};

// Every command of this binary, in the order `--help` lists them.
void RegisterCommands(Commands& commands);

}  // namespace ps::cli
