#include "stages/deploy/apply_stage.h"

#include "stages/deploy/prepare.h"
#include "stages/repository.h"

namespace ps::stages {

Result<engine::StageOutput> ApplyStage::Run(engine::StageContext& ctx) {
  const Json& input = ctx.run_input();
  PS_ASSIGN(const std::string path, RepositoryFolder(ctx));
  PS_ASSIGN(auto opened, deploy::OpenEnvironment(ctx, targets_));
  targets::Environment& env = *opened;
  PS_TRY(env.Lock("apply"));
  PS_ASSIGN(auto pv, deploy::PrepareVersion(ctx, env, path, input.value("ref", "")));
  ctx.Progress(0.6, "deploying " + pv.commit.substr(0, 12));
  PS_ASSIGN(Json report, env.Deploy(pv.runs, [&](const std::string& m) { ctx.Progress(0.7, m); }));

  Json services = Json::array();
  bool changed = false;
  for (auto& r : report) {
    const std::string name = r["service"];
    const int port = env.FrontendPort(name);
    if (port > 0) r["url"] = "http://127.0.0.1:" + std::to_string(port) + "/";
    changed |= r["action"] != "unchanged";
    services.push_back(r);
  }
  engine::StageOutput out;
  const std::string envname = input.value("env", "staging");
  const std::string target = input.value("target", "local");
  out.facts = {{"target", target},     {"env", envname},
               {"version", pv.commit}, {"release_dir", pv.release_dir},
               {"services", services}, {"skipped", pv.skipped},
               {"steps", pv.steps},    {"changed", changed}};
  out.metrics = {{"services", services.size()}, {"changed", changed}};
  out.events.push_back({"iac.applied",
                        {{"target", target},
                         {"env", envname},
                         {"version", pv.commit},
                         {"services", services},
                         {"changed", changed}}});
  ctx.Progress(1.0, changed ? "applied " + pv.commit.substr(0, 12) : "nothing changed");
  return out;
}

Result<engine::StageOutput> DownStage::Run(engine::StageContext& ctx) {
  const std::string envname = ctx.run_input().value("env", "staging");
  if (!deploy::EnvironmentExists(ctx, targets_, envname)) {
    return problems::NotFound("environment", envname);
  }
  PS_ASSIGN(auto env, deploy::OpenEnvironment(ctx, targets_));
  PS_TRY(env->Lock("down"));
  ctx.Progress(0.1, "stopping every process of " + envname);
  // The processes stop first; a full disk may then keep the environment's
  // state from saying so (the next command sees them stopped anyway).
  const Status stopped = env->Down();
  if (!stopped.ok() && !stopped.problem().Is("disk-full")) return stopped.problem();
  engine::StageOutput out;
  out.facts = {{"env", envname},
               {"stopped", true},
               {"kept", env->DataDir().string()},
               {"target", ctx.run_input().value("target", "local")}};
  if (!stopped.ok()) out.facts["warning"] = stopped.problem().Message();
  out.events.push_back({"iac.applied", {{"env", envname}, {"action", "down"}, {"changed", true}}});
  ctx.Progress(1.0, "stopped");
  return out;
}

}  // namespace ps::stages
