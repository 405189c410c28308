#include "stages/readiness/perf_stage.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <mutex>
#include <optional>
#include <set>
#include <thread>

#include "core/fs.h"
#include "load/http_load.h"
#include "load/paired.h"
#include "load/regression.h"
#include "stages/deploy/prepare.h"
#include "stages/readiness/policy.h"
#include "stages/repository.h"

namespace ps::stages {

namespace fs = std::filesystem;

namespace {

constexpr std::int64_t kWarmupMs = 1000;
// A paired measurement extends at most twice when it is suggestive but not
// conclusive (a check's p below kExtendBelow).
constexpr int kLooks = 3;
constexpr double kExtendBelow = 0.05;
// Schedule numbers of later looks start here, so pairs never mix looks.
constexpr std::int64_t kSeqStride = 1'000'000'000;
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

// What serves a service in an environment: the stable version and its
// first instance's port.
struct Serving {
  std::string version;
  int port = 0;
};
std::optional<Serving> ServingOf(const targets::Environment& env, const std::string& service) {
  const auto stable = env.Stable(service);
  if (!stable || stable->run.version.empty() || stable->ports.empty()) return std::nullopt;
  return Serving{stable->run.version, stable->ports.front()};
}

// The candidate's own sample, as the gate reports it.
Json SampleJson(const std::vector<load::RouteSample>& routes, double duration_s) {
  load::Histogram all;
  std::uint64_t requests = 0, failed = 0;
  for (const auto& r : routes) {
    all.Merge(r.latency);
    requests += r.requests;
    failed += r.failed;
  }
  return {{"requests", requests},
          {"failed", failed},
          {"duration_s", duration_s},
          {"achieved_rate", duration_s > 0 ? static_cast<double>(requests) / duration_s : 0.0},
          {"latency_ms", load::PercentilesJson(all)}};
}

}  // namespace

Result<engine::StageOutput> PerformanceStage::Run(engine::StageContext& ctx) {
  const Json& input = ctx.run_input();
  PS_ASSIGN(const std::string path, RepositoryFolder(ctx));
  PS_ASSIGN(const PolicyConfig policy, readiness::RunPolicy(ctx, path));
  const bool rebaseline = input.value("rebaseline", false);
  const Json& tests = ctx.Input("tests");
  engine::StageOutput out;
  Json blockers = Json::array();
  Json services = Json::array();
  auto finish = [&](const std::string& not_measured) -> Result<engine::StageOutput> {
    const bool passed = blockers.empty();
    out.facts = {{"passed", passed},         {"measured", not_measured.empty()},
                 {"blockers", blockers},     {"services", services},
                 {"rate", policy.perf_rate}, {"duration_ms", policy.perf_duration}};
    if (!not_measured.empty()) out.facts["skipped_reason"] = not_measured;
    out.policy_result = Json{{"gate", "performance"},
                             {"passed", passed},
                             {"measured", not_measured.empty()},
                             {"blockers", blockers},
                             {"p95_ms", policy.perf_p95_ms},
                             {"p99_ms", policy.perf_p99_ms},
                             {"max_regression_pct", policy.perf_max_regression_pct}};
    ctx.Progress(1.0, !not_measured.empty() ? "not measured: " + not_measured
                      : passed              ? "passed"
                                            : "blocked: " + blockers[0].get<std::string>());
    return out;
  };

  // What the tests stage ran against staging: those services and routes.
  struct Target {
    std::string service;
    std::vector<std::string> paths;
  };
  std::vector<Target> targets;
  std::vector<std::string> not_served;  // "service: why its smoke suite did not run"
  if (tests.is_object() && tests.contains("smoke") && tests["smoke"].is_array()) {
    for (const auto& item : tests["smoke"]) {
      if (!item.is_object()) continue;
      if (!item.value("ran", false)) {
        not_served.push_back(item.value("service", ""));
        continue;
      }
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
  if (!input.value("provisioned", false)) {
    return finish("no staging environment to measure ('prodsprint up --apply' provides one)");
  }
  const std::string version = tests.value("version", "");
  const std::string checked =
      version.empty()
          ? "this version"
          : "version " + version.substr(0, 12) +
                (!input.value("ref", "").empty()      ? " (--ref " + input.value("ref", "") + ")"
                 : version.rfind("worktree-", 0) == 0 ? " (the working tree)"
                                                      : " (HEAD)");
  if (targets.empty()) {
    if (!not_served.empty() && !version.empty()) {
      // Staging runs another revision: say which, and how to measure this one.
      std::string serves;
      auto env = deploy::OpenEnvironment(ctx, targets_);
      if (env.ok()) {
        const auto s = ServingOf(**env, not_served.front());
        if (s) serves = s->version.substr(0, 12);
      }
      return finish("this check is of " + checked + ", and staging " +
                    (serves.empty() ? "does not run it" : "runs version " + serves) +
                    ": nothing of this version could be loaded ('prodsprint apply PATH" +
                    (input.value("ref", "").empty() ? "" : " --ref " + input.value("ref", "")) +
                    "' deploys it to staging; 'prodsprint up PATH --apply' does all of it)");
    }
    return finish(
        "staging does not serve this version's web services, or they declare no GET routes");
  }
  PS_ASSIGN(auto opened, deploy::OpenEnvironment(ctx, targets_));
  targets::Environment& env = *opened;
  PS_TRY(env.Lock("performance"));

  load::PairedOptions po;
  po.tolerance = policy.perf_max_regression_pct / 100.0;
  int checks = 0;
  for (const auto& t : targets) checks += 3 * static_cast<int>(t.paths.size());
  double worst_p95 = 0, worst_p99 = 0, total_rate = 0;
  for (std::size_t ti = 0; ti < targets.size(); ++ti) {
    const Target& t = targets[ti];
    const double progress0 =
        0.05 + 0.9 * static_cast<double>(ti) / static_cast<double>(targets.size());
    const auto serving = ServingOf(env, t.service);
    if (!serving || serving->version != version) {
      blockers.push_back(t.service + ": staging does not serve " + checked + " any more");
      continue;
    }
    const fs::path file = env.DataDir() / "perf" / ("baseline-" + t.service + ".json");
    std::error_code ec;
    std::optional<Baseline> stored;
    std::string stored_note;
    if (fs::exists(file, ec)) {
      auto b = ReadBaseline(file);
      if (b.ok()) {
        stored = std::move(*b);
      } else {
        stored_note = b.problem().detail + "; it is replaced by this measurement if it passes";
      }
    }

    // The version to compare with, run beside the candidate now.
    std::string base_version, base_source, not_judged;
    if (const std::string ref_env = input.value("reference_env", "");
        !ref_env.empty() && deploy::EnvironmentExists(ctx, targets_, ref_env)) {
      auto reference = deploy::OpenEnvironment(ctx, targets_, ref_env);
      const auto s = reference.ok() ? ServingOf(**reference, t.service) : std::nullopt;
      if (s) {
        base_version = s->version;
        base_source = ref_env;
      }
    }
    if (base_version.empty() && stored && !rebaseline) {
      base_version = stored->version;
      base_source = "the last version that passed";
    }
    if (rebaseline) {
      not_judged = "--rebaseline: this measurement is the new reference, compared with nothing";
      base_version.clear();
    } else if (base_version.empty()) {
      not_judged =
          "no earlier version to compare with (production runs none, and none passed "
          "this gate before): this measurement becomes the reference";
    } else if (base_version == version) {
      not_judged = "the baseline (" + base_source + ") is this very version";
      base_version.clear();
    }
    int base_port = 0;
    if (!base_version.empty()) {
      ctx.Progress(progress0, "starting " + t.service + " " + base_version.substr(0, 12) + " (" +
                                  base_source + ") on staging beside " + version.substr(0, 12));
      // A baseline left by a killed run goes first.
      if (env.Candidate(t.service)) (void)env.RollbackCandidate(t.service);
      // Its run: the one staging served before (release folder ready), else
      // the revision prepared now (built once per commit).
      Status started = Ok();
      std::optional<targets::ServiceRun> run = env.PreviousRun(t.service);
      if (!run || run->version != base_version) {
        run.reset();
        auto pv = deploy::PrepareVersion(ctx, env, path, base_version);
        if (pv.ok()) {
          for (const auto& r : pv->runs) {
            if (r.name == t.service) run = r;
          }
          if (!run) {
            started =
                problems::NotFound("service in version " + base_version.substr(0, 12), t.service);
          }
        } else {
          started = std::move(pv).problem();
        }
      }
      if (run) {
        run->instances = 1;
        started = env.StartCandidate(*run, [&](const std::string& m) { ctx.log().Info(m); });
      }
      if (!started.ok()) {
        not_judged = "the baseline version " + base_version.substr(0, 12) + " (" + base_source +
                     ") could not run on staging: " + started.problem().detail;
        base_version.clear();
      } else {
        const auto candidate = env.Candidate(t.service);
        base_port = candidate && !candidate->ports.empty() ? candidate->ports.front() : 0;
      }
    }
    const bool paired = base_port > 0;

    // The load: pairs of requests (baseline, candidate) at the policy's rate
    // to each, or the candidate alone. A paired measurement that is
    // suggestive but not conclusive (some check's p below kExtendBelow, none
    // regressed) is extended by another duration, at most kLooks in all;
    // every look tests at alpha / kLooks, so that however many it takes the
    // false-alarm rate stays alpha (Bonferroni over the looks).
    std::mutex mu;
    std::vector<load::PairedRequest> requests;
    std::vector<load::PairedRouteVerdict> verdicts;
    double duration_s = 0;
    int looks = 0;
    const int max_looks = paired ? kLooks : 1;
    for (int look = 0; look < max_looks; ++look) {
      load::LoadOptions lo;
      lo.paths = t.paths;
      lo.rate = policy.perf_rate * (paired ? 2 : 1);
      lo.connections = ConnectionsFor(policy.perf_rate);
      lo.warmup_ms = look == 0 ? kWarmupMs : 0;  // later looks: already warm
      lo.duration_ms = lo.warmup_ms + policy.perf_duration;
      if (paired) {
        lo.targets = {base_port, serving->port};
      } else {
        lo.port = serving->port;
      }
      ctx.Progress(
          progress0 + 0.05,
          (look == 0 ? "loading " : "inconclusive so far: loading again ") + t.service +
              " on staging: " + std::to_string(policy.perf_rate) + " requests/s over " +
              std::to_string(t.paths.size()) + " route(s)" +
              (paired ? ", beside " + base_version.substr(0, 12) + " (" + base_source + ")" : ""));
      const std::int64_t offset = static_cast<std::int64_t>(look) * kSeqStride;
      load::LoadGenerator gen(lo);
      gen.Start([&](const load::Outcome& o) {
        load::PairedRequest r;
        r.seq = o.seq < 0 ? -1 : o.seq + offset;
        r.side = paired ? static_cast<int>(o.target) : 1;
        r.route = o.route;
        r.latency_ms = o.latency_ms;
        r.answered = o.status != 0;
        r.failed = o.failed();
        std::lock_guard lock(mu);
        requests.push_back(r);
      });
      // Real time: the load is real whatever clock the engine runs on.
      const auto until =
          std::chrono::steady_clock::now() + std::chrono::milliseconds(lo.duration_ms);
      while (std::chrono::steady_clock::now() < until && !ctx.Stopping())
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
      gen.Stop();
      gen.Wait();
      duration_s += gen.Summarize().duration_s;
      ++looks;
      if (ctx.Stopping()) break;
      {
        std::lock_guard lock(mu);
        verdicts = load::ComparePaired(requests, t.paths, po, checks * max_looks);
      }
      if (!paired || !load::Inconclusive(verdicts, kExtendBelow)) break;
    }
    if (paired) {
      // The baseline stops whatever happened; weight 0 throughout.
      Status stopped = env.RollbackCandidate(t.service);
      if (!stopped.ok()) ctx.log().Warn("the baseline did not stop: " + stopped.problem().detail);
    }
    if (ctx.Stopping()) return problems::Cancelled("the performance measurement was stopped");

    std::vector<load::RouteSample> sample;
    for (const auto& v : verdicts) sample.push_back(v.current);
    const Json summary = SampleJson(sample, duration_s);
    const double p95 = summary["latency_ms"]["p95"], p99 = summary["latency_ms"]["p99"];
    worst_p95 = std::max(worst_p95, p95);
    worst_p99 = std::max(worst_p99, p99);
    total_rate += summary["achieved_rate"].get<double>();

    const std::size_t blockers_before = blockers.size();
    Json routes = Json::array();
    load::RegressionOptions ro;
    for (const auto& v : verdicts) {
      Json rj = {{"route", v.route},
                 {"requests", v.current.requests},
                 {"failed", v.current.failed},
                 {"latency_ms", load::PercentilesJson(v.current.latency)}};
      if (paired) {
        rj["compared"] = v.ToJson();
        rj["compared"]["baseline_latency_ms"] = load::PercentilesJson(v.baseline.latency);
        rj["compared"]["baseline_requests"] = v.baseline.requests;
        if (v.regressed()) blockers.push_back(t.service + " " + v.Reason());
      } else {
        // Alone: errors still count, against a clean service.
        const load::RouteSample clean{v.route, {}, 0, 0};
        const auto e = load::CompareRoute(clean, v.current, ro, std::max(checks, 1));
        if (e.errors_regressed) {
          blockers.push_back(t.service + " " + v.route + ": " + std::to_string(v.current.failed) +
                             " of " + std::to_string(v.current.requests) +
                             " requests failed under load");
        }
      }
      routes.push_back(std::move(rj));
    }
    if (policy.perf_p95_ms > 0 && p95 > policy.perf_p95_ms) {
      blockers.push_back(t.service + ": p95 " + load::FormatMs(p95) + " is over the budget of " +
                         std::to_string(policy.perf_p95_ms) + " ms");
    }
    if (policy.perf_p99_ms > 0 && p99 > policy.perf_p99_ms) {
      blockers.push_back(t.service + ": p99 " + load::FormatMs(p99) + " is over the budget of " +
                         std::to_string(policy.perf_p99_ms) + " ms");
    }
    if (summary["requests"].get<std::uint64_t>() == summary["failed"].get<std::uint64_t>())
      blockers.push_back(t.service + ": no request was answered");
    const bool service_passed = blockers.size() == blockers_before;

    Json item = {{"service", t.service}, {"version", version}, {"summary", summary},
                 {"routes", routes},     {"looks", looks},     {"passed", service_passed}};
    item["baseline"] =
        paired ? Json{{"version", base_version}, {"source", base_source}, {"paired", true}}
               : Json{{"paired", false}, {"note", not_judged}};
    if (!stored_note.empty()) item["baseline_note"] = stored_note;

    // A passing measurement is the new reference: the version later runs
    // compare with when production has none, and a point of the trend.
    if (service_passed) {
      Baseline nb{version, ctx.clock().Now(), policy.perf_rate, sample};
      const std::string text = Dump(BaselineJson(nb, t.service), 2) + "\n";
      fs::create_directories(file.parent_path(), ec);
      PS_TRY(WriteFileAtomic(file, text));
      Json point = {{"version", version},
                    {"at", nb.at},
                    {"rate", policy.perf_rate},
                    {"p50_ms", summary["latency_ms"]["p50"]},
                    {"p95_ms", p95},
                    {"p99_ms", p99},
                    {"failed", summary["failed"]},
                    {"requests", summary["requests"]}};
      if (paired) point["compared_with"] = base_version;
      PS_TRY(AppendFile(env.DataDir() / "perf" / ("history-" + t.service + ".jsonl"),
                        Dump(point) + "\n"));
      const bool changed = !stored || stored->version != version;
      if (changed) {
        PS_ASSIGN(engine::ArtifactOut a,
                  ctx.PutArtifact(store::ArtifactType::kPerf,
                                  "perf-baseline-" + t.service + ".json", text, "application/json",
                                  {{"service", t.service}, {"kind", "baseline"}}));
        out.artifacts.push_back(a);
        out.events.push_back({"perf.baselined",
                              {{"service", t.service},
                               {"version", version},
                               {"routes", sample.size()},
                               {"p95_ms", p95},
                               {"rate", summary["achieved_rate"]}}});
      }
      item["reference"] = {{"version", version}, {"updated", changed}};
    }
    Json stored_item = item;
    stored_item["histograms"] = Json::array();
    for (const auto& r : sample) stored_item["histograms"].push_back(r.ToJson());
    if (paired) {
      stored_item["baseline_histograms"] = Json::array();
      for (const auto& v : verdicts)
        stored_item["baseline_histograms"].push_back(v.baseline.ToJson());
    }
    PS_ASSIGN(engine::ArtifactOut a,
              ctx.PutArtifact(store::ArtifactType::kPerf, "perf-" + t.service + ".json",
                              Dump(stored_item, 2) + "\n", "application/json",
                              {{"service", t.service}, {"kind", "measurement"}}));
    out.artifacts.push_back(a);
    services.push_back(std::move(item));
  }
  out.metrics = {{"p95_ms", worst_p95}, {"p99_ms", worst_p99}, {"rate", total_rate}};
  return finish("");
}

}  // namespace ps::stages
