#include "stages/readiness/perf_stage.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <set>
#include <thread>

#include "core/fs.h"
#include "load/http_load.h"
#include "load/regression.h"
#include "stages/deploy/prepare.h"
#include "stages/readiness/policy.h"

namespace ps::stages {

namespace fs = std::filesystem;

namespace {

constexpr std::int64_t kWarmupMs = 1000;
// Connections: enough that a route answering in ~100 ms does not queue at
// the policy's rate (a rate/5 floor), at least 8, at most 64.
int ConnectionsFor(int rate) { return std::clamp(rate / 5, 8, 64); }

struct Baseline {
  std::string version;
  Millis at = 0;
  int rate = 0;
  std::vector<load::RouteSample> routes;
};

Json BaselineJson(const Baseline& b, const std::string& service) {
  Json routes = Json::array();
  for (const auto& r : b.routes) routes.push_back(r.ToJson());
  return {{"service", service},
          {"version", b.version},
          {"at", b.at},
          {"rate", b.rate},
          {"routes", routes}};
}

// A stored baseline: a file this tool wrote, but read as untrusted (a
// damaged one is reported and replaced, never a crash).
Result<Baseline> ReadBaseline(const fs::path& file) {
  PS_ASSIGN(std::string text, ReadFile(file, 16 << 20));
  const Json j = Json::parse(text, nullptr, false);
  if (j.is_discarded() || !j.is_object() || !j.value("version", Json()).is_string() ||
      !j.value("rate", Json()).is_number_integer() || !j.value("routes", Json()).is_array()) {
    return problems::InvalidInput("not a performance baseline: " + file.string());
  }
  Baseline b;
  b.version = j["version"].get<std::string>();
  b.at = j.value("at", Json()).is_number_integer() ? j["at"].get<Millis>() : 0;
  b.rate = j["rate"].get<int>();
  for (const auto& r : j["routes"]) {
    PS_ASSIGN(load::RouteSample s, load::RouteSample::FromJson(r));
    b.routes.push_back(std::move(s));
  }
  return b;
}

}  // namespace

Result<engine::StageOutput> PerformanceStage::Run(engine::StageContext& ctx) {
  const Json& input = ctx.run_input();
  if (!input.contains("path") || !input["path"].is_string()) {
    return problems::InvalidInput("the readiness run needs input.path, the repository's folder");
  }
  PS_ASSIGN(const PolicyConfig policy, readiness::PolicyOf(input["path"].get<std::string>()));
  const bool rebaseline = input.value("rebaseline", false);
  const Json& tests = ctx.Input("tests");
  engine::StageOutput out;
  Json blockers = Json::array();
  Json services = Json::array();
  auto finish = [&](const std::string& skipped) -> Result<engine::StageOutput> {
    const bool passed = blockers.empty();
    out.facts = {{"passed", passed},
                 {"blockers", blockers},
                 {"services", services},
                 {"rate", policy.perf_rate},
                 {"duration_ms", policy.perf_duration}};
    if (!skipped.empty()) out.facts["skipped_reason"] = skipped;
    out.policy_result = Json{
        {"gate", "performance"},        {"passed", passed},
        {"blockers", blockers},         {"p95_ms", policy.perf_p95_ms},
        {"p99_ms", policy.perf_p99_ms}, {"max_regression_pct", policy.perf_max_regression_pct}};
    ctx.Progress(1.0, !skipped.empty() ? "not run: " + skipped
                      : passed         ? "passed"
                                       : "blocked: " + blockers[0].get<std::string>());
    return out;
  };

  // What the tests stage ran against staging: those services and routes.
  struct Target {
    std::string service;
    std::vector<std::string> paths;
  };
  std::vector<Target> targets;
  if (tests.is_object() && tests.contains("smoke") && tests["smoke"].is_array()) {
    for (const auto& item : tests["smoke"]) {
      if (!item.is_object() || !item.value("ran", false)) continue;
      Target t{item.value("service", ""), {}};
      std::set<std::string> seen;
      for (const auto& r : item.value("suite", Json::array())) {
        if (!r.is_object() || r.value("method", "") != "GET") continue;
        const std::string p = r.value("path", "");
        if (!p.empty() && p[0] == '/' && p.find_first_of(" \r\n") == std::string::npos &&
            seen.insert(p).second)
          t.paths.push_back(p);
      }
      if (!t.service.empty() && !t.paths.empty()) targets.push_back(std::move(t));
    }
  }
  if (!input.contains("env_dir") || !input["env_dir"].is_string()) {
    return finish("no staging environment to measure ('prodsprint up --apply' provides one)");
  }
  if (targets.empty()) {
    return finish(
        "staging does not serve this version's web services, or they declare no GET routes");
  }
  PS_ASSIGN(auto env, deploy::OpenEnvironment(ctx));
  PS_TRY(env.Lock("performance"));
  const std::string version = tests.value("version", "");

  load::RegressionOptions ro;
  ro.tolerance = policy.perf_max_regression_pct / 100.0;
  double worst_p95 = 0, worst_p99 = 0, total_rate = 0;
  for (std::size_t ti = 0; ti < targets.size(); ++ti) {
    const Target& t = targets[ti];
    const int port = env.FrontendPort(t.service);
    if (port <= 0) {
      blockers.push_back(t.service + ": staging has no frontend to measure");
      continue;
    }
    load::LoadOptions lo;
    lo.port = port;
    lo.paths = t.paths;
    lo.rate = policy.perf_rate;
    lo.connections = ConnectionsFor(policy.perf_rate);
    lo.warmup_ms = kWarmupMs;
    lo.duration_ms = kWarmupMs + policy.perf_duration;
    ctx.Progress(0.1 + 0.8 * static_cast<double>(ti) / static_cast<double>(targets.size()),
                 "loading " + t.service + " on staging: " + std::to_string(policy.perf_rate) +
                     " requests/s over " + std::to_string(t.paths.size()) + " route(s)");
    load::LoadGenerator gen(lo);
    gen.Start();
    // Real time: the load is real whatever clock the engine runs on.
    const auto until = std::chrono::steady_clock::now() + std::chrono::milliseconds(lo.duration_ms);
    while (std::chrono::steady_clock::now() < until && !ctx.Stopping())
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    gen.Stop();
    gen.Wait();
    if (ctx.Stopping()) return problems::Cancelled("the performance measurement was stopped");
    const load::Summary s = gen.Summarize();
    worst_p95 = std::max(worst_p95, s.p95_ms);
    worst_p99 = std::max(worst_p99, s.p99_ms);
    total_rate += s.achieved_rate;

    // The baseline: compared with, or written when there is none (or the
    // profile changed, or --rebaseline).
    const fs::path file = env.dir() / "perf" / ("baseline-" + t.service + ".json");
    std::optional<Baseline> base;
    std::string baseline_note;
    std::error_code ec;
    if (!rebaseline && fs::exists(file, ec)) {
      auto b = ReadBaseline(file);
      if (!b.ok()) {
        baseline_note = b.problem().detail + "; a new one is taken";
      } else if (b->rate != policy.perf_rate) {
        baseline_note = "the baseline was taken at " + std::to_string(b->rate) +
                        " requests/s, the policy now says " + std::to_string(policy.perf_rate) +
                        "; a new one is taken";
      } else {
        base = std::move(*b);
      }
    }
    const std::size_t blockers_before = blockers.size();
    Json routes = Json::array();
    std::vector<const load::RouteSample*> new_routes;  // measured, not in the baseline
    int checks = 0;
    if (base) {
      for (const auto& r : s.routes) {
        for (const auto& b : base->routes) checks += b.route == r.route ? 3 : 0;
      }
    }
    for (const auto& r : s.routes) {
      Json rj = {{"route", r.route},
                 {"requests", r.requests},
                 {"failed", r.failed},
                 {"latency_ms", load::PercentilesJson(r.latency)}};
      const load::RouteSample* b = nullptr;
      if (base) {
        for (const auto& x : base->routes) {
          if (x.route == r.route) b = &x;
        }
      }
      // Without a baseline, errors still count: against a clean one.
      const load::RouteSample empty{r.route, {}, 0, 0};
      const auto v = load::CompareRoute(b ? *b : empty, r, ro, std::max(checks, 1));
      if (b) {
        rj["compared"] = v.ToJson();
        if (v.regressed()) blockers.push_back(t.service + " " + v.Reason());
      } else if (v.errors_regressed) {
        blockers.push_back(t.service + " " + r.route + ": " + std::to_string(r.failed) + " of " +
                           std::to_string(r.requests) + " requests failed under load");
      }
      if (base && !b) {
        new_routes.push_back(&r);
        rj["baseline_added"] = true;  // when the service passes (below)
      }
      routes.push_back(std::move(rj));
    }
    if (policy.perf_p95_ms > 0 && s.p95_ms > policy.perf_p95_ms) {
      blockers.push_back(t.service + ": p95 " + load::FormatMs(s.p95_ms) +
                         " is over the budget of " + std::to_string(policy.perf_p95_ms) + " ms");
    }
    if (policy.perf_p99_ms > 0 && s.p99_ms > policy.perf_p99_ms) {
      blockers.push_back(t.service + ": p99 " + load::FormatMs(s.p99_ms) +
                         " is over the budget of " + std::to_string(policy.perf_p99_ms) + " ms");
    }
    if (s.completed == 0) blockers.push_back(t.service + ": no request was answered");
    const bool service_passed = blockers.size() == blockers_before;

    Json item = {{"service", t.service},
                 {"version", version},
                 {"summary", s.ToJson()},
                 {"routes", routes},
                 {"passed", service_passed}};
    if (base) {
      item["baseline"] = {{"version", base->version}, {"at", base->at}, {"created", false}};
      // Routes the baseline does not know (the version declares new ones):
      // a passing measurement of them joins it, so they are judged next time.
      if (!new_routes.empty() && service_passed) {
        Json added = Json::array();
        for (const auto* r : new_routes) {
          base->routes.push_back(*r);
          added.push_back(r->route);
        }
        const std::string text = Dump(BaselineJson(*base, t.service), 2) + "\n";
        PS_TRY(WriteFileAtomic(file, text));
        out.events.push_back({"perf.baselined",
                              {{"service", t.service},
                               {"version", version},
                               {"routes_added", added},
                               {"rate", s.achieved_rate}}});
        item["baseline"]["routes_added"] = added;
      } else {
        for (auto& rj : routes) rj.erase("baseline_added");
      }
    } else if (service_passed) {
      // Only a passing measurement becomes the baseline.
      Baseline nb{version, ctx.clock().Now(), policy.perf_rate, s.routes};
      const std::string text = Dump(BaselineJson(nb, t.service), 2) + "\n";
      fs::create_directories(file.parent_path(), ec);
      PS_TRY(WriteFileAtomic(file, text));
      PS_ASSIGN(
          engine::ArtifactOut a,
          ctx.PutArtifact(store::ArtifactType::kPerf, "perf-baseline-" + t.service + ".json", text,
                          "application/json", {{"service", t.service}, {"kind", "baseline"}}));
      out.artifacts.push_back(a);
      out.events.push_back({"perf.baselined",
                            {{"service", t.service},
                             {"version", version},
                             {"routes", s.routes.size()},
                             {"p95_ms", s.p95_ms},
                             {"rate", s.achieved_rate}}});
      item["baseline"] = {{"version", version}, {"at", nb.at}, {"created", true}};
    } else {
      item["baseline"] = nullptr;
    }
    if (!baseline_note.empty()) item["baseline_note"] = baseline_note;
    Json stored = item;
    stored["histograms"] = Json::array();
    for (const auto& r : s.routes) stored["histograms"].push_back(r.ToJson());
    PS_ASSIGN(engine::ArtifactOut a,
              ctx.PutArtifact(store::ArtifactType::kPerf, "perf-" + t.service + ".json",
                              Dump(stored, 2) + "\n", "application/json",
                              {{"service", t.service}, {"kind", "measurement"}}));
    out.artifacts.push_back(a);
    services.push_back(std::move(item));
  }
  out.metrics = {{"p95_ms", worst_p95}, {"p99_ms", worst_p99}, {"rate", total_rate}};
  return finish("");
}

}  // namespace ps::stages
