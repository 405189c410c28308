// `prodsprint db`: the offline advisory database (OSV) the security gate
// matches dependencies against.
#include <unistd.h>

#include <cctype>
#include <filesystem>
#include <iostream>
#include <map>

#include "cli/command.h"
#include "core/fs.h"
#include "core/process.h"
#include "security/osv.h"
#include "stages/readiness/security_gate.h"

namespace ps::cli {
namespace {

struct DbArgs {
  std::vector<std::string> paths;       // import: files or folders
  std::vector<std::string> ecosystems;  // update: which exports (default: all the readers know)
  std::string url;                      // update: base URL of the exports
  std::string db;                       // "" = the default database
  bool json = false;
};

std::string Trimmed(std::string s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.pop_back();
  return s;
}

std::string DbPath(const DbArgs& a) {
  return a.db.empty() ? stages::readiness::DefaultAdvisoryDbPath() : a.db;
}

void PrintImport(const security::ImportReport& rep, const std::string& what,
                 const std::string& db) {
  const Term t = Term::Detect();
  std::cout << what << ": " << rep.files << " document(s), "
            << t.Green(std::to_string(rep.added) + " added") << ", " << rep.updated << " updated, "
            << rep.unchanged << " unchanged, " << rep.withdrawn << " withdrawn\n";
  for (const auto& [file, why] : rep.skipped)
    std::cout << "  " << t.Yellow("skipped") << " " << file << ": " << why << "\n";
  std::cout << t.Dim("database: " + db) << "\n";
}

Result<int> CmdDbImport(const DbArgs& a, const std::function<bool()>& stopping) {
  const std::string path = DbPath(a);
  PS_ASSIGN(auto db, security::AdvisoryDb::Open(path, true));
  Json reports = Json::array();
  for (const auto& p : a.paths) {
    PS_ASSIGN(auto rep, db->Import(p, stopping));
    if (a.json) {
      Json j = rep.ToJson();
      j["path"] = p;
      reports.push_back(j);
    } else {
      PrintImport(rep, p, path);
    }
  }
  db->SetMeta("last_import", FormatTime(SystemClock::Instance().Now()));
  if (a.json) std::cout << Dump({{"database", path}, {"imports", reports}}, 2) << std::endl;
  return kExitOk;
}

Result<int> CmdDbUpdate(const DbArgs& a, const std::function<bool()>& stopping) {
  static const std::vector<std::string> kDefault = {
      "npm", "PyPI", "Go", "crates.io", "RubyGems", "Packagist", "Maven", "NuGet", "Hex"};
  const std::vector<std::string>& ecosystems = a.ecosystems.empty() ? kDefault : a.ecosystems;
  const std::string base =
      a.url.empty() ? "https://osv-vulnerabilities.storage.googleapis.com" : a.url;
  const std::string path = DbPath(a);
  PS_ASSIGN(auto db, security::AdvisoryDb::Open(path, true));
  const fs::path tmp = fs::temp_directory_path() / ("prodsprint-osv-" + std::to_string(::getpid()));
  PS_TRY(EnsureDir(tmp));
  struct Cleanup {
    fs::path p;
    ~Cleanup() {
      std::error_code ec;
      fs::remove_all(p, ec);
    }
  } cleanup{tmp};
  Json reports = Json::array();
  int failed = 0;
  for (const auto& eco : ecosystems) {
    if (stopping && stopping()) return problems::Cancelled("interrupted");
    // OSV publishes one zip per ecosystem: <base>/<ecosystem>/all.zip.
    std::string url = base + "/" + eco + "/all.zip";
    for (std::size_t i = 0; (i = url.find(' ', i)) != std::string::npos;) url.replace(i, 1, "%20");
    const fs::path zip = tmp / (std::to_string(reports.size()) + ".zip");
    const fs::path log = tmp / "curl.log";
    SpawnOptions so;
    so.argv = {"curl",       "--fail",     "--silent",   "--show-error",
               "--location", "--max-time", "600",        "--connect-timeout",
               "15",         "--output",   zip.string(), url};
    so.log_path = log.string();
    auto st = RunToCompletion(so, 660'000, stopping);
    if (!st.ok() || st->code != 0) {
      ++failed;
      const std::string why =
          !st.ok() ? st.problem().Message() : Trimmed(LogTail(log.string(), 400));
      if (a.json) {
        reports.push_back({{"ecosystem", eco}, {"url", url}, {"error", why}});
      } else {
        std::cout << Term::Detect().Red("failed") << " " << eco << " (" << url << "): " << why
                  << "\n";
      }
      continue;
    }
    PS_ASSIGN(auto rep, db->Import(zip.string(), stopping));
    if (a.json) {
      Json j = rep.ToJson();
      j["ecosystem"] = eco;
      j["url"] = url;
      reports.push_back(j);
    } else {
      PrintImport(rep, eco, path);
    }
  }
  if (failed < static_cast<int>(ecosystems.size())) {
    db->SetMeta("last_update", FormatTime(SystemClock::Instance().Now()));
    db->SetMeta("update_source", base);
  }
  if (a.json)
    std::cout << Dump({{"database", path}, {"updates", reports}, {"failed", failed}}, 2)
              << std::endl;
  if (failed == static_cast<int>(ecosystems.size())) {
    Problem p = Problem::Make("advisories-unreachable", "Advisory exports unreachable", 503,
                              "no export could be fetched from " + base +
                                  " (no network here?). Load exports fetched elsewhere with "
                                  "`prodsprint db import FILE.zip`.");
    return p;
  }
  return failed ? kExitFailed : kExitOk;
}

Result<int> CmdDbStatus(const DbArgs& a) {
  const std::string path = DbPath(a);
  PS_ASSIGN(auto db, security::AdvisoryDb::Open(path, false));
  PS_ASSIGN(Json status, db->Status());
  status["database"] = path;
  if (a.json) {
    std::cout << Dump(status, 2) << std::endl;
    return kExitOk;
  }
  const Term t = Term::Detect();
  std::cout << t.Bold("Advisory database") << " " << path << "\n"
            << status["advisories"].get<long long>() << " advisories, newest modified "
            << (status["newest_modified"].get<std::string>().empty()
                    ? "-"
                    : status["newest_modified"].get<std::string>())
            << "\n";
  std::vector<std::vector<std::string>> rows = {{t.Dim("ECOSYSTEM"), t.Dim("ADVISORIES")}};
  for (const auto& [eco, n] : status["ecosystems"].items())
    rows.push_back({eco, std::to_string(n.get<long long>())});
  std::cout << Table(rows);
  for (const auto& [k, v] : status["meta"].items())
    std::cout << t.Dim(k + ": " + v.get<std::string>()) << "\n";
  return kExitOk;
}

}  // namespace

void RegisterDb(Commands& commands) {
  auto a = std::make_shared<DbArgs>();
  auto* db = commands.app().add_subcommand(
      "db",
      "The offline advisory database (OSV format) the security gate matches dependencies\n"
      "against. Default location: $PRODSPRINT_ADVISORY_DB, else "
      "~/.cache/prodsprint/advisories.db.");
  db->require_subcommand(1);
  db->add_option("--db", a->db, "The database file");
  auto* db_import = db->add_subcommand(
      "import",
      "Load OSV records: .json files (one record or a list), OSV's zip exports, or\n"
      "folders of them. Newer versions of a record replace older ones; withdrawn ones go.");
  db_import->add_option("PATH", a->paths, "Files or folders")->required();
  db_import->add_flag("--json", a->json, "Machine-readable output");
  auto* db_update = db->add_subcommand(
      "update",
      "Fetch OSV's per-ecosystem exports (<url>/<ecosystem>/all.zip, with curl) and\n"
      "load them. Needs a network; without one, `db import` exports fetched elsewhere.");
  db_update->add_option("--ecosystem", a->ecosystems,
                        "Which (repeatable; default npm PyPI Go crates.io RubyGems Packagist Maven "
                        "NuGet Hex)");
  db_update->add_option("--url", a->url,
                        "Base URL (default https://osv-vulnerabilities.storage.googleapis.com)");
  db_update->add_flag("--json", a->json, "Machine-readable output");
  auto* db_status =
      db->add_subcommand("status", "Advisories per ecosystem, newest record, last update");
  db_status->add_flag("--json", a->json, "Machine-readable output");

  commands.Add(
      db,
      [a, db_import, db_update]() -> Result<int> {
        auto stopping = [] { return g_interrupted.load(); };
        if (db_import->parsed()) return CmdDbImport(*a, stopping);
        if (db_update->parsed()) return CmdDbUpdate(*a, stopping);
        return CmdDbStatus(*a);
      },
      std::shared_ptr<const bool>(a, &a->json));
}

}  // namespace ps::cli
