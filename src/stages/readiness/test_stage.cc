#include "stages/readiness/test_stage.h"

#include <filesystem>

#include "core/config.h"
#include "core/fs.h"
#include "stages/deploy/prepare.h"
#include "stages/plan/blueprint.h"
#include "stages/readiness/policy.h"
#include "stages/readiness/test_gate.h"

namespace ps::stages {

namespace fs = std::filesystem;

Result<engine::StageOutput> TestStage::Run(engine::StageContext& ctx) {
  const Json& input = ctx.run_input();
  if (!input.contains("path") || !input["path"].is_string()) {
    return problems::InvalidInput("the readiness run needs input.path, the repository's folder");
  }
  const std::string path = input["path"].get<std::string>();
  readiness::TestGateOptions o;
  PS_ASSIGN(o.policy, readiness::PolicyOf(path));
  o.stopping = [&] { return ctx.Stopping(); };
  o.progress = [&](const std::string& m) { ctx.Progress(0.5, m); };
  if (const auto it = ctx.config().engine.stages.find(kName);
      it != ctx.config().engine.stages.end() && it->second.timeout && *it->second.timeout > 0) {
    o.timeout_ms = *it->second.timeout;
  }

  std::optional<targets::local::LocalEnvironment> env;
  if (input.contains("env_dir") && input["env_dir"].is_string()) {
    PS_ASSIGN(env, deploy::OpenEnvironment(ctx));
  } else {
    // Nothing provisioned, so nothing will be released from this run.
    o.skipped_reason =
        "no staging environment to run them in ('prodsprint up --apply' provides one)";
    o.nothing_to_release = true;
  }
  std::string version;
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
      o.report_dir = (env->dir() / "tests" / pv->commit.substr(0, 12)).string();
      for (const auto& s : plan::ServicesOf(pv->audited)) {
        if (s.test_command.empty()) continue;
        const std::string slug = plan::Slug(s.name);
        const targets::local::ServiceRun* run = nullptr;
        for (const auto& r : pv->runs) {
          if (r.name == slug) run = &r;
        }
        if (!run) continue;  // not prepared here (no start command, or not a service we run)
        readiness::TestTarget t;
        t.service = slug;
        t.framework = s.test_framework;
        t.command = s.test_command;
        t.cwd = run->cwd;
        t.env = run->env;
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
  out.facts = r.ToJson();
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
