#include "stages/readiness/test_stage.h"

#include <filesystem>

#include "core/config.h"
#include "core/fs.h"
#include "core/net.h"
#include "quality/routes.h"
#include "stages/deploy/prepare.h"
#include "stages/plan/blueprint.h"
#include "stages/readiness/policy.h"
#include "stages/readiness/test_gate.h"
#include "stages/repository.h"

namespace ps::stages {

Result<engine::StageOutput> TestStage::Run(engine::StageContext& ctx) {
  const Json& input = ctx.run_input();
  PS_ASSIGN(const std::string path, RepositoryFolder(ctx));
  readiness::TestGateOptions o;
  PS_ASSIGN(o.policy, readiness::RunPolicy(ctx, path));
  o.stopping = [&] { return ctx.Stopping(); };
  o.progress = [&](const std::string& m) { ctx.Progress(0.5, m); };
  if (const auto it = ctx.config().engine.stages.find(kName);
      it != ctx.config().engine.stages.end() && it->second.timeout && *it->second.timeout > 0) {
    o.timeout_ms = *it->second.timeout;
  }

  std::unique_ptr<targets::Environment> env;
  if (input.value("provisioned", false)) {
    PS_ASSIGN(env, deploy::OpenEnvironment(ctx, targets_));
  } else {
    // Nothing provisioned, so nothing will be released from this run.
    o.skipped_reason =
        "no staging environment to run them in ('prodsprint up --apply' provides one)";
    o.nothing_to_release = true;
  }
  std::string version;
  struct SmokeTarget {
    std::string name, cwd, health;
  };
  std::vector<SmokeTarget> smoke_targets;
  if (env) {
    PS_TRY(env->Lock("tests"));
    ctx.Progress(0.05, "preparing the version for its tests");
    auto pv = deploy::PrepareVersion(ctx, *env, path, input.value("ref", ""));
    if (!pv.ok()) {
      if (!pv.problem().Is("nothing-to-run")) return std::move(pv).problem();
      o.skipped_reason = pv.problem().detail;
      o.nothing_to_release = true;
    } else {
      version = pv->commit;
      o.report_dir = (env->DataDir() / "tests" / pv->commit.substr(0, 12)).string();
      for (const auto& s : plan::ServicesOf(pv->audited)) {
        const std::string slug = plan::Slug(s.name);
        const targets::ServiceRun* run = nullptr;
        for (const auto& r : pv->runs) {
          if (r.name == slug) run = &r;
        }
        if (!run) continue;  // not prepared here (no start command, or not a service we run)
        if (run->kind == "web") smoke_targets.push_back({slug, run->cwd, run->health_path});
        if (s.test_command.empty()) continue;
        readiness::TestTarget t;
        t.service = slug;
        t.framework = s.test_framework;
        t.command = s.test_command;
        t.cwd = run->cwd;
        t.env = run->env;
        t.secrets_file = env->SecretsFile();
        // Backing servers of its own: tests may write anything.
        for (const auto& b : s.backing) {
          if (b != "postgres" && b != "redis") continue;
          PS_ASSIGN(auto info, env->EnsureBacking(b, s.name + "-test"));
          for (const auto& [k, v] : info.env) t.env[k] = v;
        }
        t.env["PRODSPRINT_ENV"] = "test";
        t.env["NODE_ENV"] = "test";
        t.env["CI"] = "true";
        t.env.erase("PORT");
        o.targets.push_back(std::move(t));
      }
      if (o.targets.empty()) o.skipped_reason = "no service has a test command";
    }
  }

  PS_ASSIGN(readiness::TestGateResult r, readiness::RunTestGate(o));
  engine::StageOutput out;

  // Smoke tests: the routes each service declares; the parameterless GETs
  // are requested from staging when staging runs this very version.
  Json smoke = Json::array();
  for (const auto& s : smoke_targets) {
    const auto routes = quality::FindRoutesIn(s.cwd);
    const auto suite = quality::SmokeRoutes(routes, s.health);
    Json item = {
        {"service", s.name}, {"routes", routes.size()}, {"suite", quality::RoutesToJson(suite)}};
    PS_ASSIGN(engine::ArtifactOut a,
              ctx.PutArtifact(store::ArtifactType::kTests, "smoke-" + s.name + ".json",
                              Dump({{"service", s.name},
                                    {"version", version},
                                    {"routes", quality::RoutesToJson(routes)},
                                    {"smoke", quality::RoutesToJson(suite)}},
                                   2) +
                                  "\n",
                              "application/json", {{"service", s.name}, {"kind", "smoke"}}));
    out.artifacts.push_back(a);
    out.events.push_back(
        {"tests.generated",
         {{"service", s.name}, {"routes", routes.size()}, {"smoke", suite.size()}}});
    // The stable version says which version staging serves.
    const auto stable = env->Stable(s.name);
    const bool serves = stable && stable->run.version == version;
    const int port = env->FrontendPort(s.name);
    if (port <= 0 || !serves) {
      item["ran"] = false;
      item["note"] = "staging does not run this version: the suite was written, not run";
      smoke.push_back(item);
      continue;
    }
    ctx.Progress(0.9, "smoke tests of " + s.name + " against staging");
    Json results = Json::array();
    int failed = 0;
    for (const auto& route : suite) {
      const int status = HttpGetStatus("127.0.0.1", port, route.path, 5000);
      results.push_back({{"path", route.path}, {"status", status}});
      if (status == 0 || status >= 500) {
        ++failed;
        r.blockers.push_back(
            "smoke test of " + s.name + ": GET " + route.path +
            (status == 0 ? " got no answer" : " answered " + std::to_string(status)) +
            " on staging");
      }
    }
    item["ran"] = true;
    item["results"] = results;
    item["failed"] = failed;
    smoke.push_back(item);
  }
  out.facts = r.ToJson();
  out.facts["smoke"] = smoke;
  if (!version.empty()) out.facts["version"] = version;
  const auto totals = r.Totals();
  const auto cov = r.MergedCoverage();
  out.metrics = {{"tests", totals.tests},
                 {"failed", totals.failed},
                 {"errors", totals.errors},
                 {"skipped", totals.skipped},
                 {"services", r.services.size()}};
  if (cov) out.metrics["coverage"] = cov->LinePercent();
  out.policy_result = Json{{"gate", "tests"},
                           {"passed", r.passed()},
                           {"blockers", r.blockers},
                           {"max_failures", o.policy.tests_max_failures},
                           {"coverage_min", o.policy.tests_coverage_min},
                           {"required", o.policy.tests_required}};
  if (!r.services.empty()) {
    PS_ASSIGN(engine::ArtifactOut junit,
              ctx.PutArtifact(store::ArtifactType::kTests, "tests.junit.xml", r.JUnitXml(),
                              "application/xml", {{"format", "JUnit XML"}}));
    out.artifacts.push_back(junit);
    for (const auto& s : r.services) {
      auto log = ReadFile(s.log, 8 << 20);
      if (!log.ok()) continue;
      PS_ASSIGN(engine::ArtifactOut a,
                ctx.PutArtifact(store::ArtifactType::kTests, "tests-" + s.service + ".log", *log,
                                "text/plain", {{"service", s.service}, {"command", s.command}}));
      out.artifacts.push_back(a);
    }
  }
  ctx.Progress(1.0, r.passed() ? "passed" : "blocked: " + r.blockers.front());
  return out;
}

}  // namespace ps::stages
