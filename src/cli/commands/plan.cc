// `prodsprint plan`: audit a repository and write its blueprint to a folder.

#include <sys/stat.h>

#include <filesystem>
#include <iostream>

#include "cli/command.h"
#include "cli/output.h"
#include "core/fs.h"
#include "stages/audit/audit.h"
#include "stages/plan/blueprint.h"

namespace ps::cli {
namespace {

struct PlanArgs {
  std::string path, ref;
  std::string target = "local", env = "staging";
  std::string out;            // default: PATH/.prodsprint/plan/ENV
  std::string project;        // default: the folder's name
  std::string repo_url;       // for Argo CD; default: none (a finding)
  std::string cloud = "aws";  // target kubernetes: aws (EKS) or gcp (GKE)
  bool json = false;
};

// Refuses a path in the output folder that goes through a symbolic link (a
// blueprint never writes outside the folder it was given).
Status CheckNoLink(const fs::path& out, const std::string& rel) {
  fs::path at = out;
  for (const auto& part : fs::path(rel)) {
    at /= part;
    struct stat st {};
    if (::lstat(at.c_str(), &st) == 0 && S_ISLNK(st.st_mode)) {
      return problems::InvalidInput(at.string() +
                                    " is a symbolic link; the plan writes only "
                                    "inside the output folder");
    }
  }
  return Ok();
}

// Writes the blueprint's files and plan.json. Files of the previous plan in
// this folder that the new one no longer has are removed, but only if they
// are still what that plan wrote (a user's edit is kept, and reported).
Result<Json> WriteBlueprint(const fs::path& out, const stages::plan::Blueprint& b, Json summary) {
  std::error_code ec;
  fs::create_directories(out, ec);
  if (ec) return problems::InvalidInput("cannot create " + out.string() + ": " + ec.message());
  Json previous = nullptr;
  const fs::path plan_json = out / "plan.json";
  if (fs::exists(plan_json, ec)) {
    auto text = ReadFile(plan_json, 16 << 20);
    if (text.ok()) {
      Json p = Json::parse(*text, nullptr, false);
      if (p.is_object() && p.contains("files") && p["files"].is_array()) {
        Json files = Json::object();
        for (const auto& f : p["files"]) {
          if (f.is_object() && f["path"].is_string() && f["sha256"].is_string())
            files[f["path"].get<std::string>()] = f["sha256"];
        }
        previous = {
            {"files", files},
            {"resources", p.contains("resources") && p["resources"].is_object() ? p["resources"]
                                                                                : Json::object()},
            {"monthly_cost", p.contains("cost") && p["cost"].is_object()
                                 ? p["cost"].value("totalMonthlyCost", Json(nullptr))
                                 : Json(nullptr)}};
      }
    }
  }
  summary["diff"] = stages::plan::Diff(previous, b.State());
  for (const auto& [rel, content] : b.files) {
    if (rel.empty() || rel[0] == '/' || rel.find("..") != std::string::npos) {
      return problems::InvalidInput("refusing to write outside the output folder: " + rel);
    }
    PS_TRY(CheckNoLink(out, rel));
    fs::create_directories((out / rel).parent_path(), ec);
    if (ec) return problems::InvalidInput("cannot create " + (out / rel).parent_path().string());
    PS_TRY(WriteFileAtomic(out / rel, content));
  }
  Json kept = Json::array();
  for (const auto& rel : summary["diff"]["files"]["removed"]) {
    const std::string r = rel.get<std::string>();
    if (r.empty() || r[0] == '/' || r.find("..") != std::string::npos) continue;
    if (!CheckNoLink(out, r).ok()) continue;
    auto sha = Sha256File(out / r);
    if (sha.ok() && *sha == previous["files"][r]) {
      fs::remove(out / r, ec);
    } else if (sha.ok()) {
      kept.push_back(r);
    }
  }
  if (!kept.empty()) summary["diff"]["kept_edited"] = kept;
  PS_TRY(CheckNoLink(out, "plan.json"));
  PS_TRY(WriteFileAtomic(plan_json, Dump(summary, 2) + "\n"));
  return summary;
}

void PrintCost(const Term& t, const Json& cost) {
  if (!cost.is_object()) return;
  std::vector<std::vector<std::string>> rows = {{t.Bold("RESOURCE"), t.Bold("MONTHLY (USD)")}};
  for (const auto& p : cost["projects"]) {
    for (const auto& r : p["breakdown"]["resources"]) {
      rows.push_back({r["name"].get<std::string>(), r["monthlyCost"].get<std::string>()});
    }
  }
  rows.push_back({t.Bold("total"), t.Bold(cost["totalMonthlyCost"].get<std::string>())});
  std::cout << "\n"
            << t.Bold("Cost") << " (price table "
            << cost["priceTable"]["version"].get<std::string>()
            << "; usage assumptions in usage.yml, override with prodsprint-usage.yml)\n"
            << Table(rows);
}

void PrintPlan(const Term& t, const Json& s, const fs::path& out) {
  std::cout << t.Bold("Plan for " + s["target"].get<std::string>() + "/" +
                      s["env"].get<std::string>())
            << " written to " << out.string() << "\n\n";
  std::vector<std::vector<std::string>> rows = {
      {t.Bold("SERVICE"), t.Bold("ROOT"), t.Bold("KIND"), t.Bold("PORT"), t.Bold("DOCKERFILE")}};
  for (const auto& sv : s["services"]) {
    rows.push_back(
        {sv["name"].get<std::string>(), sv["root"].get<std::string>(),
         sv["kind"].get<std::string>(),
         sv["port"].is_number() ? std::to_string(sv["port"].get<int>()) : "-",
         sv.contains("image_of")
             ? "image of " + sv["image_of"].get<std::string>() + ": " +
                   sv["command"].get<std::string>()
             : sv["dockerfile"].get<std::string>() +
                   (sv["generated_dockerfile"].get<bool>() ? " (written)" : " (reviewed)")});
  }
  std::cout << Table(rows) << "\n";
  const Json& d = s["diff"]["files"];
  std::cout << t.Bold("Files") << ": " << s["files"].size() << " (" << d["added"].size()
            << " added, " << d["changed"].size() << " changed, " << d["removed"].size()
            << " removed)\n";
  const Json& rd = s["diff"]["resources"];
  if (!s["diff"]["first"].get<bool>()) {
    for (const auto& [what, colour] :
         std::vector<std::pair<std::string, int>>{{"added", 0}, {"changed", 1}, {"removed", 2}}) {
      for (const auto& r : rd[what]) {
        const std::string line = "  " + what + " " + r.get<std::string>();
        std::cout << (colour == 0   ? t.Green(line)
                      : colour == 1 ? t.Yellow(line)
                                    : t.Red(line))
                  << "\n";
      }
    }
    if (s["diff"]["cost"].is_object()) {
      std::cout << "  monthly cost " << s["diff"]["cost"]["delta"].get<std::string>() << " USD\n";
    }
  }
  for (const auto& f : s["files"]) std::cout << "  " << f["path"].get<std::string>() << "\n";
  if (s["diff"].contains("kept_edited")) {
    for (const auto& k : s["diff"]["kept_edited"])
      std::cout << t.Yellow("  kept (edited since the last plan): ") << k.get<std::string>()
                << "\n";
  }
  const Json& fs_ = s["findings"];
  std::cout << "\n" << t.Bold("Findings") << ": " << fs_.size() << "\n";
  for (const auto& f : fs_) {
    const std::string sev = f["severity"].get<std::string>();
    const std::string tag = sev == "error"     ? t.Red(sev)
                            : sev == "warning" ? t.Yellow(sev)
                                               : t.Dim(sev);
    std::string where = f["service"].is_string() ? f["service"].get<std::string>() : "repository";
    if (f["file"].is_string()) {
      where += " " + f["file"].get<std::string>();
      if (f.contains("line")) where += ":" + std::to_string(f["line"].get<int>());
    }
    std::cout << "  " << tag << " " << f["id"].get<std::string>() << " " << where << ": "
              << f["message"].get<std::string>() << "\n      " << t.Dim(f["fix"].get<std::string>())
              << "\n";
  }
  const Json& p = s["policies"];
  std::cout << "\n"
            << t.Bold("Policies") << " (drafted; copy into prodsprint.yaml's policy section)\n"
            << "  tests: required=" << p["tests"]["required"]
            << ", coverage >= " << p["tests"]["coverage_min"] << "%\n"
            << "  security: block at " << p["security"]["max_severity"].get<std::string>()
            << " severity and above, secrets " << p["security"]["secrets"].get<std::string>()
            << "\n";
}

Result<int> CmdPlan(const PlanArgs& a, const std::function<bool()>& stopping) {
  PS_ASSIGN(std::unique_ptr<stages::audit::RepoView> view, stages::audit::OpenView(a.path, a.ref));
  stages::plan::PlanOptions o;
  o.project = stages::plan::Slug(
      !a.project.empty() ? a.project
                         : fs::absolute(fs::path(a.path)).lexically_normal().filename().string());
  o.target = a.target;
  o.env = a.env;
  o.repo_url = a.repo_url;
  o.cloud = a.cloud;
  PS_TRY(stages::plan::CheckOptions(o));
  PS_ASSIGN(Json audited, stages::audit::Audit(*view, {}, stopping));
  PS_ASSIGN(stages::plan::Blueprint b,
            stages::plan::MakeBlueprint(audited, o, stages::plan::ReaderOf(*view)));
  Json summary = b.ToJson();
  summary["project"] = o.project;
  summary["target"] = o.target;
  summary["env"] = o.env;
  const fs::path out =
      a.out.empty() ? fs::path(a.path) / ".prodsprint" / "plan" / o.env : fs::path(a.out);
  // Inside the repository, each level is made from the repository's root
  // and a symbolic link at any of them is refused (a folder given with
  // --out is the user's choice; below it, links are refused file by file).
  if (a.out.empty()) PS_TRY(EnsureDirBelow(a.path, fs::path(".prodsprint") / "plan" / o.env));
  PS_ASSIGN(summary, WriteBlueprint(out, b, summary));
  summary["out"] = out.string();
  if (a.json) {
    std::cout << Dump(summary, 2) << std::endl;
  } else {
    PrintPlan(Term::Detect(), summary, out);
    PrintCost(Term::Detect(), b.cost);
  }
  return kExitOk;
}

}  // namespace

void RegisterPlan(Commands& commands) {
  auto a = std::make_shared<PlanArgs>();
  auto json = std::shared_ptr<const bool>(a, &a->json);
  auto* plan = commands.app().add_subcommand(
      "plan",
      "Plan how the repository reaches production: audit it, then write a blueprint to a folder:\n"
      "a multi-stage Dockerfile and .dockerignore per service without one (a review of the ones\n"
      "it has), a GitHub Actions workflow, the drafted policy, and per target Terraform (aws),\n"
      "Helm charts with Argo Rollouts and Argo CD (kubernetes), render.yaml (render) or\n"
      "vercel.json (vercel), priced per month. Every fact the audit could not establish is a\n"
      "finding, never a guess. The same input writes the same bytes; a second plan reports the\n"
      "files, resources and cost that changed. docs/PLAN.md describes the files.");
  plan->add_option("PATH", a->path, "The repository's folder")->required();
  plan->add_option("--ref", a->ref, "Plan this git revision, read from the object database");
  plan->add_option("--target", a->target, "Where it runs: local, kubernetes, aws, render, vercel")
      ->capture_default_str();
  plan->add_option("--env", a->env, "staging or production")->capture_default_str();
  plan->add_option("--out", a->out, "Folder to write to (default: PATH/.prodsprint/plan/ENV)");
  plan->add_option("--project", a->project,
                   "Project name for images and resources (default: the folder's name)");
  plan->add_option("--repo-url", a->repo_url, "The Git URL Argo CD syncs from (target kubernetes)");
  plan->add_option("--cloud", a->cloud,
                   "Target kubernetes: the cluster and its data on aws (EKS, RDS, ElastiCache) "
                   "or gcp (GKE, Cloud SQL, Memorystore)")
      ->capture_default_str();
  plan->add_flag("--json", a->json, "The plan summary (files, findings, policies, diff) as JSON");

  commands.Add(
      plan, [a] { return CmdPlan(*a, [] { return g_interrupted.load(); }); }, json);
}

}  // namespace ps::cli
