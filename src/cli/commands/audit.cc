// `prodsprint audit`: what a repository is and what it needs (docs/AUDIT.md).
#include <iostream>

#include "cli/command.h"
#include "cli/print.h"
#include "service/orgs.h"
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

// `prodsprint audit verify`: the audit log's hash chains checked.
Result<int> CmdAuditVerify(const Options& o, bool json) {
  PS_ASSIGN(auto s, OpenSession(o, "prodsprint.yaml", false));
  auto app = s->App();
  PS_ASSIGN(auto chains, service::VerifyAudit(app));
  bool ok = true;
  Json out = Json::array();
  for (const auto& c : chains) {
    ok = ok && c.ok;
    out.push_back({{"org_id", c.org_id},
                   {"entries", c.entries},
                   {"head", c.head},
                   {"ok", c.ok},
                   {"broken_at", c.ok ? Json(nullptr) : Json(c.broken_at)},
                   {"reason", c.reason}});
  }
  if (json) {
    std::cout << Dump({{"ok", ok}, {"chains", out}}, 2) << std::endl;
  } else {
    const Term t = Term::Detect();
    for (const auto& c : chains) {
      const std::string who = c.org_id.empty() ? "server" : "org " + c.org_id;
      if (c.ok) {
        std::cout << t.Green("ok") << "  " << who << ": " << c.entries << " entries, head "
                  << c.head.substr(0, 16) << "\n";
      } else {
        std::cout << t.Red("BROKEN") << "  " << who << ": at entry " << c.broken_at << ": "
                  << c.reason << "\n";
      }
    }
    if (chains.empty()) std::cout << "the audit log is empty\n";
  }
  if (!ok) {
    return Problem::Make("audit-chain-broken", "Audit log altered", 409,
                         "an entry of the audit log was changed or deleted (see above)");
  }
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
  // `audit verify` first: the first chosen command in registration order runs.
  auto verify_json = std::make_shared<bool>(false);
  auto* verify = audit->add_subcommand(
      "verify",
      "Check the audit log of the state (--state): every entry's hash and its link to the one\n"
      "before, per org. Exits 1 naming the first entry changed or deleted. (Deleting the newest\n"
      "entries leaves a valid shorter chain: compare the head with one you kept.)");
  verify->add_flag("--json", *verify_json, "The chains as JSON");
  const Options& o = commands.options();
  commands.Add(
      verify, [&o, verify_json] { return CmdAuditVerify(o, *verify_json); }, verify_json);
  audit->add_option("PATH", a->path, "The repository's folder (or: audit verify)");
  audit->add_option("--ref", a->ref,
                    "Read this git revision from the object database, no checkout");
  audit->add_flag("--json", *json, "The full result as JSON");
  commands.Add(
      audit,
      [a, json]() -> Result<int> {
        if (a->path.empty()) return problems::InvalidInput("audit needs PATH (or: audit verify)");
        return CmdAudit(a->path, a->ref, *json);
      },
      json);
}

}  // namespace ps::cli
