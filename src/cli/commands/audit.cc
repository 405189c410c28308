// `prodsprint audit`: what a repository is and what it needs (docs/AUDIT.md).
#include <iostream>

#include "cli/command.h"
#include "cli/print.h"
#include "stages/audit/audit.h"

namespace ps::cli {
namespace {

Result<int> CmdAudit(const std::string& path, const std::string& ref, bool json) {
  PS_ASSIGN(std::unique_ptr<stages::audit::RepoView> view, stages::audit::OpenView(path, ref));
  PS_ASSIGN(Json result, stages::audit::Audit(*view, {}, [] { return g_interrupted.load(); }));
  // Stopped after the walk: what was read is partial, never a result.
  if (g_interrupted) return problems::Cancelled("stopped by a signal: no result");
  if (json) {
    std::cout << Dump(result, 2) << std::endl;
    return kExitOk;
  }
  PrintAudit(Term::Detect(), result, view->Describe());
  return kExitOk;
}

}  // namespace

void RegisterAudit(Commands& commands) {
  struct Args {
    std::string path, ref;
  };
  auto a = std::make_shared<Args>();
  auto json = std::make_shared<bool>(false);
  auto* audit = commands.app().add_subcommand(
      "audit",
      "Audit a repository: languages, frameworks, package managers, monorepo layout, and every\n"
      "deployable service with its kind, runtime, port, commands, env vars, backing services and\n"
      "migrations, each fact with its evidence (file:line) and confidence. Sources that disagree\n"
      "are reported as conflicts with all candidates. Reads nothing outside the tree and follows\n"
      "no symbolic link. docs/AUDIT.md describes the JSON.");
  audit->add_option("PATH", a->path, "The repository's folder")->required();
  audit->add_option("--ref", a->ref,
                    "Read this git revision from the object database, no checkout");
  audit->add_flag("--json", *json, "The full result as JSON");
  commands.Add(
      audit, [a, json] { return CmdAudit(a->path, a->ref, *json); }, json);
}

}  // namespace ps::cli
