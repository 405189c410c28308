#include "stages/deploy/release_stage.h"

#include <map>
#include <memory>
#include <mutex>

#include "analysis/sequential.h"
#include "load/http_load.h"
#include "quality/routes.h"
#include "stages/deploy/prepare.h"
#include "stages/repository.h"

namespace ps::stages {
namespace {

// One service under release.
struct Watched {
  std::string name;
  bool web = false;
  std::unique_ptr<analysis::CanaryAnalysis> analysis;
  std::string from_version;
  std::string cwd;             // the new version's folder (its routes make the default traffic)
  std::int64_t step_base = 0;  // canary requests when the current step began
};

enum class Outcome { kDone, kRollback, kPromoteNow, kAbort };

class Release {
 public:
  Release(engine::StageContext& ctx, targets::Environment& env) : ctx_(ctx), env_(env) {}

  Result<engine::StageOutput> Run();

 private:
  // Reads requests and control until `done()` or a decision; `max_ms` < 0
  // waits without limit.
  Outcome Watch(Millis max_ms, const std::function<bool()>& done);
  bool AllPromotable() const;
  void MarkStep();
  Status Record(const std::string& status, std::vector<engine::EventOut> events,
                std::optional<store::Alert> alert = std::nullopt);
  Json Stats() const;
  Json FromVersions() const {
    Json from = Json::object();
    for (const auto& w : watched_) from[w.name] = w.from_version;
    return from;
  }
  // One request's outcome into the current second of the timeline.
  void Note(bool canary, bool failed, double ms);
  // Closes the current second when it is over: a timeline sample and a
  // progress line with the traffic split.
  void Sample(bool force = false);
  void Decide(const std::string& what, const std::string& verdict, Json extra = Json::object());
  Status SetWeight(int percent);
  Status RollBack(const std::string& reason, bool automatic);
  void StartTraffic(bool bluegreen);
  void StopTraffic();
  // The steps, once the candidates serve.
  Result<engine::StageOutput> Steps(engine::StageOutput out);

  // The stage's clock, for durations (it never jumps): real time in a
  // release, simulated in the tests.
  Millis Now() { return ctx_.clock().Monotonic(); }

  engine::StageContext& ctx_;
  targets::Environment& env_;
  Config settings_;
  const ReleaseConfig* rc_ = nullptr;
  std::string strategy_, version_, release_id_;
  std::vector<Watched> watched_;
  std::vector<std::unique_ptr<load::LoadGenerator>> traffic_;
  std::map<std::string, std::unique_ptr<load::LoadGenerator>> direct_;  // blue/green test traffic
  int weight_ = 0;
  double bluegreen_share_ = 0;  // blue/green: the candidate's share of the observed requests
  Json decisions_ = Json::array();
  std::string reason_;
  Millis first_candidate_request_ = 0, weight_zero_at_ = 0, started_ = 0;
  // The timeline: per second, the weight and each side's requests, failures
  // and latency (the report's charts).
  struct Window {
    std::int64_t requests[2] = {0, 0}, failed[2] = {0, 0};  // [stable, canary]
    load::Histogram latency[2];
  } window_;
  Millis window_start_ = 0;
  Json timeline_ = Json::array();
  std::int64_t log_records_ = 0;
  // Blue/green feeds the analysis from the load generators' threads.
  mutable std::mutex mu_;
};

Json Release::Stats() const {
  std::lock_guard lock(mu_);
  Json s = Json::object();
  for (const auto& w : watched_) {
    if (w.analysis) s[w.name] = w.analysis->Stats();
  }
  return s;
}

void Release::Note(bool canary, bool failed, double ms) {
  std::lock_guard lock(mu_);
  const int side = canary ? 1 : 0;
  ++window_.requests[side];
  if (failed) ++window_.failed[side];
  window_.latency[side].Record(static_cast<std::int64_t>(ms * 1000));
}

void Release::Sample(bool force) {
  const Millis now = Now();
  if (window_start_ == 0) window_start_ = now;
  if (!force && now - window_start_ < 1000) return;
  Window w;
  {
    std::lock_guard lock(mu_);
    w = window_;
    window_ = Window();
  }
  window_start_ = now;
  auto side = [&](int i) {
    return Json{{"requests", w.requests[i]},
                {"failed", w.failed[i]},
                {"p50_ms", w.latency[i].QuantileMs(0.5)},
                {"p95_ms", w.latency[i].QuantileMs(0.95)}};
  };
  if (timeline_.size() < 7200) {
    timeline_.push_back(
        {{"t_ms", now - started_}, {"weight", weight_}, {"stable", side(0)}, {"canary", side(1)}});
  }
  char line[200];
  std::snprintf(line, sizeof line,
                "traffic %d%% new / %d%% stable: new %lld req %lld failed p95 %.1f ms; stable "
                "%lld req %lld failed p95 %.1f ms",
                weight_, 100 - weight_, static_cast<long long>(w.requests[1]),
                static_cast<long long>(w.failed[1]), w.latency[1].QuantileMs(0.95),
                static_cast<long long>(w.requests[0]), static_cast<long long>(w.failed[0]),
                w.latency[0].QuantileMs(0.95));
  ctx_.Progress(0.7 + 0.3 * weight_ / 100.0, line);
}

void Release::Decide(const std::string& what, const std::string& verdict, Json extra) {
  extra["at_ms"] = Now() - started_;
  extra["what"] = what;
  extra["verdict"] = verdict;
  extra["weight"] = weight_;
  extra["services"] = Stats();
  decisions_.push_back(extra);
}

Status Release::Record(const std::string& status, std::vector<engine::EventOut> events,
                       std::optional<store::Alert> alert) {
  store::Release r;
  r.id = release_id_;
  r.sha = version_;
  r.env = ctx_.run_input().value("env", "staging");
  r.strategy = strategy_;
  r.status = status;
  const Json from = FromVersions();
  Json traffic = Json::array();
  for (const auto& t : traffic_) traffic.push_back(t->Summarize().ToJson());
  for (const auto& [n, t] : direct_) traffic.push_back(t->Summarize().ToJson());
  r.meta = {{"from", from},
            {"weight", weight_},
            {"steps", rc_->ToJson()["steps"]},
            {"decisions", decisions_},
            {"traffic", traffic},
            {"log_records", log_records_},
            {"reason", reason_}};
  if (first_candidate_request_ > 0 && weight_zero_at_ > 0) {
    r.meta["detection_ms"] = weight_zero_at_ - first_candidate_request_;
  }
  engine::LiveRecord rec;
  rec.release = r;
  rec.events = std::move(events);
  rec.alert = std::move(alert);
  return ctx_.Record(std::move(rec));
}

bool Release::AllPromotable() const {
  std::lock_guard lock(mu_);
  for (const auto& w : watched_) {
    if (!w.web || !w.analysis) continue;
    // Safe so far, and seen again at this step's weight.
    if (w.analysis->verdict() != analysis::Verdict::kPromotable) return false;
    if (w.analysis->canary_requests() - w.step_base < rc_->min_requests) return false;
  }
  return true;
}

void Release::MarkStep() {
  std::lock_guard lock(mu_);
  for (auto& w : watched_) w.step_base = w.analysis ? w.analysis->canary_requests() : 0;
}

Outcome Release::Watch(Millis max_ms, const std::function<bool()>& done) {
  const Millis until = max_ms < 0 ? INT64_MAX : Now() + max_ms;
  Millis next_health = 0;
  while (true) {
    for (const auto& rec : env_.ReadRequests(10)) {
      ++log_records_;
      for (auto& w : watched_) {
        if (w.name != rec.service || !w.analysis) continue;
        if (bluegreen_share_ > 0) continue;  // blue/green reads its own traffic
        const bool canary = rec.candidate;
        if (canary && first_candidate_request_ == 0) first_candidate_request_ = Now();
        Note(canary, rec.failed, rec.ms);
        const double share = std::clamp(weight_ / 100.0, 0.001, 0.999);
        if (w.analysis->Observe(canary, rec.failed, rec.ms, share) ==
            analysis::Verdict::kRollback) {
          reason_ = "analysis: " + w.name + " " + w.analysis->Stats().value("reason", "");
          return Outcome::kRollback;
        }
      }
    }
    // Blue/green: the test traffic's own outcomes (the candidate gets no
    // routed traffic before the switch).
    {
      std::lock_guard lock(mu_);
      for (auto& w : watched_) {
        if (w.analysis && w.analysis->verdict() == analysis::Verdict::kRollback) {
          reason_ = "analysis: " + w.name + " " + w.analysis->Stats().value("reason", "");
          return Outcome::kRollback;
        }
      }
    }
    Sample();
    const Millis now = Now();
    if (now >= next_health) {
      next_health = now + 200;
      for (const auto& w : watched_) {
        auto h = env_.CandidateHealth(w.name);
        if (!h.healthy || h.restarts > 0) {
          reason_ = "unhealthy: " + w.name + " " +
                    (h.detail.empty() ? std::to_string(h.restarts) + " restart(s)" : h.detail);
          return Outcome::kRollback;
        }
      }
      if (auto action = ctx_.TakeSignal()) {
        if (*action == "promote") return Outcome::kPromoteNow;
        if (*action == "abort" || *action == "rollback") {
          reason_ = "manual: prodsprint " + *action;
          return Outcome::kAbort;
        }
      }
      if (ctx_.Stopping()) {
        reason_ = ctx_.stop_reason() == engine::StopReason::kInterrupted
                      ? "interrupted (Ctrl-C or SIGTERM): the new version was rolled out"
                      : "the run was stopped";
        return Outcome::kAbort;
      }
    }
    if (done && done()) return Outcome::kDone;
    if (now >= until) return Outcome::kDone;
  }
}

Status Release::SetWeight(int percent) {
  weight_ = percent;
  for (const auto& w : watched_) PS_TRY(env_.SetCandidateWeight(w.name, percent));
  return Ok();
}

Status Release::RollBack(const std::string& reason, bool automatic) {
  // Weight 0 everywhere first, then drain and stop.
  weight_ = 0;
  for (const auto& w : watched_) (void)env_.SetCandidateWeight(w.name, 0);
  weight_zero_at_ = Now();
  Decide(automatic ? "rollback" : "abort", "rollback", {{"reason", reason}});
  Sample(true);
  Status first = Ok();
  for (const auto& w : watched_) {
    auto st = env_.RollbackCandidate(w.name);
    if (!st.ok() && first.ok()) first = st;
  }
  StopTraffic();
  store::Alert alert;
  alert.id = ctx_.EffectKey("rollback-alert");
  alert.type = "release.rolledback";
  alert.severity = automatic ? "critical" : "warning";
  alert.action = automatic ? "rolled back automatically" : "rolled back by request";
  alert.meta = {{"release", release_id_}, {"version", version_}, {"reason", reason}};
  Json payload = {{"release", release_id_},
                  {"version", version_},
                  {"reason", reason},
                  {"automatic", automatic},
                  {"services", Stats()}};
  if (first_candidate_request_ > 0)
    payload["detection_ms"] = weight_zero_at_ - first_candidate_request_;
  PS_TRY(Record(automatic ? "rolledback" : "aborted", {{"release.rolledback", payload}}, alert));
  return first;
}

void Release::StartTraffic(bool bluegreen) {
  if (rc_->traffic_rate <= 0) return;
  for (const auto& w : watched_) {
    if (!w.web) continue;
    const auto candidate = env_.Candidate(w.name);
    // The traffic's paths: release.traffic.paths, else the smoke suite (the
    // routes the new version declares that a GET without parameters
    // reaches, as the tests stage found them), else the health path.
    const std::string health = candidate ? candidate->run.health_path : "";
    std::vector<std::string> paths = rc_->traffic_paths;
    if (paths.empty()) {
      for (const auto& r : quality::SmokeRoutes(quality::FindRoutesIn(w.cwd), health, 20))
        paths.push_back(r.path);
    }
    if (paths.empty()) paths = {health.empty() ? "/" : health};
    load::LoadOptions o;
    o.port = env_.FrontendPort(w.name);
    o.paths = paths;
    o.rate = rc_->traffic_rate;
    o.connections = rc_->traffic_connections;
    if (!bluegreen) {
      traffic_.push_back(std::make_unique<load::LoadGenerator>(o));
      traffic_.back()->Start();
      continue;
    }
    // Blue/green: test traffic straight to the candidate's instances and
    // routed traffic to stable, at the same rate, both analysed from the
    // generators' own outcomes (share 0.5).
    if (!candidate || candidate->ports.empty()) continue;
    auto* a = w.analysis.get();
    bluegreen_share_ = 0.5;
    load::LoadOptions d = o;
    d.port = candidate->ports.front();
    auto direct = std::make_unique<load::LoadGenerator>(d);
    direct->Start([a, this](const load::Outcome& out) {
      Note(true, out.failed(), out.service_ms);
      std::lock_guard lock(mu_);
      if (first_candidate_request_ == 0) first_candidate_request_ = Now();
      a->Observe(true, out.failed(), out.service_ms, 0.5);
    });
    direct_[w.name] = std::move(direct);
    auto stable = std::make_unique<load::LoadGenerator>(o);
    stable->Start([a, this](const load::Outcome& out) {
      Note(false, out.failed(), out.service_ms);
      std::lock_guard lock(mu_);
      a->Observe(false, out.failed(), out.service_ms, 0.5);
    });
    traffic_.push_back(std::move(stable));
  }
}

void Release::StopTraffic() {
  for (auto& [n, t] : direct_) {
    t->Stop();
    t->Wait();
  }
  for (auto& t : traffic_) {
    t->Stop();
    t->Wait();
  }
}

Result<engine::StageOutput> Release::Run() {
  const Json& input = ctx_.run_input();
  PS_ASSIGN(settings_, deploy::RunSettings(ctx_));
  rc_ = &settings_.release;
  strategy_ = input.value("strategy", "");
  if (strategy_.empty()) strategy_ = rc_->strategy;
  if (strategy_ != "canary" && strategy_ != "bluegreen") {
    return problems::InvalidInput("strategy must be canary or bluegreen, not '" + strategy_ + "'");
  }
  release_id_ = ctx_.run().id;
  PS_ASSIGN(const std::string path, RepositoryFolder(ctx_));
  started_ = Now();
  PS_TRY(env_.Lock("release " + ctx_.run().id.substr(0, 13)));
  PS_ASSIGN(auto pv, deploy::PrepareVersion(ctx_, env_, path, input.value("ref", "")));
  version_ = pv.commit;

  // Which services change.
  std::vector<targets::ServiceRun> changing;
  for (const auto& run : pv.runs) {
    const auto stable = env_.Stable(run.name);
    if (!stable) {
      return Problem::Make("nothing-to-release-against", "No stable version to release against",
                           409,
                           "service '" + run.name + "' is not running in '" +
                               input.value("env", "staging") + "'; run 'prodsprint apply' first");
    }
    if (stable->run.version == run.version && stable->run.command == run.command) continue;
    Watched w;
    w.name = run.name;
    w.web = run.kind == "web";
    w.from_version = stable->run.version;
    w.cwd = run.cwd;
    analysis::AnalysisConfig ac;
    ac.alpha = rc_->alpha;
    ac.min_canary_requests = rc_->min_requests;
    ac.max_canary_error_rate = rc_->max_error_rate;
    for (const auto& m : rc_->metrics) {
      analysis::Threshold t;
      if (m.name == "latency") {
        char q[32];
        std::snprintf(q, sizeof q, "p%g", m.quantile * 100);
        t.name = std::string("latency ") + q + " <= " + std::to_string(m.max_ms) + " ms";
        t.max_rate = 1 - m.quantile;
        t.latency_ms = static_cast<double>(m.max_ms);
      } else {
        t.name = "error-rate <= " + Dump(Json(m.max));
        t.max_rate = m.max;
      }
      ac.thresholds.push_back(t);
    }
    w.analysis = std::make_unique<analysis::CanaryAnalysis>(ac);
    watched_.push_back(std::move(w));
    changing.push_back(run);
  }
  engine::StageOutput out;
  if (changing.empty()) {
    out.facts = {{"release", nullptr},
                 {"version", version_},
                 {"status", "unchanged"},
                 {"detail", "every service already runs " + version_.substr(0, 12)}};
    ctx_.Progress(1.0, "nothing to release: already running " + version_.substr(0, 12));
    return out;
  }
  PS_TRY(Record("progressing", {{"release.progress",
                                 {{"release", release_id_},
                                  {"version", version_},
                                  {"strategy", strategy_},
                                  {"phase", "starting"}}}}));

  // The candidates, at weight 0. A candidate that never gets healthy stops
  // and leaves the stable version serving.
  for (std::size_t i = 0; i < changing.size(); ++i) {
    auto st =
        env_.StartCandidate(changing[i], [&](const std::string& m) { ctx_.Progress(0.6, m); });
    if (!st.ok()) {
      for (std::size_t j = 0; j < i; ++j) (void)env_.RollbackCandidate(changing[j].name);
      reason_ = "the candidate did not start: " + st.problem().Message();
      Decide("start", "failed", {{"reason", reason_}});
      (void)Record("failed", {{"release.rolledback",
                               {{"release", release_id_},
                                {"version", version_},
                                {"reason", reason_},
                                {"automatic", true}}}});
      return st.problem();
    }
  }
  // From here a candidate serves: whatever fails (the store, HAProxy's
  // runtime API), it must not be left holding traffic with nobody watching.
  auto result = [&]() -> Result<engine::StageOutput> {
    PS_TRY(env_.OpenRequests());
    return Steps(std::move(out));
  }();
  if (!result.ok()) {
    StopTraffic();
    for (const auto& w : watched_) {
      (void)env_.SetCandidateWeight(w.name, 0);
      (void)env_.RollbackCandidate(w.name);
    }
    reason_ = "rolled back after an error: " + result.problem().Message();
    (void)Record("failed", {{"release.rolledback",
                             {{"release", release_id_},
                              {"version", version_},
                              {"reason", reason_},
                              {"automatic", true}}}});
  }
  return result;
}

Result<engine::StageOutput> Release::Steps(engine::StageOutput out) {
  bool promoted = false;
  Outcome outcome = Outcome::kDone;
  if (strategy_ == "bluegreen") {
    StartTraffic(true);
    ctx_.Progress(0.7, "testing the new version beside the stable one");
    Decide("test", "started");
    PS_TRY(Record("progressing",
                  {{"release.progress", {{"release", release_id_}, {"phase", "test"}}}}));
    outcome = Watch(rc_->max_duration, [&] { return AllPromotable(); });
    if (outcome == Outcome::kDone && !AllPromotable()) {
      reason_ = "inconclusive after " + std::to_string(rc_->max_duration / 1000) +
                " s: waiting for prodsprint promote or abort";
      Decide("test", "inconclusive");
      PS_TRY(Record("paused",
                    {{"release.progress",
                      {{"release", release_id_}, {"phase", "paused"}, {"reason", reason_}}}}));
      outcome = Watch(-1, {});
    }
    if (outcome == Outcome::kDone || outcome == Outcome::kPromoteNow) {
      StopTraffic();
      for (const auto& w : watched_) PS_TRY(env_.PromoteCandidate(w.name, true));
      weight_ = 100;
      promoted = true;
    }
  } else {
    StartTraffic(false);
    const auto steps = rc_->EffectiveSteps();
    for (std::size_t i = 0; i < steps.size() && outcome == Outcome::kDone; ++i) {
      const auto& st = steps[i];
      ctx_.Progress(0.7 + 0.3 * static_cast<double>(i) / static_cast<double>(steps.size()),
                    "step " + std::to_string(i + 1) + "/" + std::to_string(steps.size()) + ": " +
                        st.kind + (st.kind == "setWeight" ? " " + std::to_string(st.weight) : ""));
      if (st.kind == "setWeight") {
        PS_TRY(SetWeight(st.weight));
        MarkStep();
        Decide("setWeight", "continue", {{"step", i}});
        PS_TRY(Record(
            "progressing",
            {{"release.progress", {{"release", release_id_}, {"step", i}, {"weight", weight_}}}}));
        outcome = Watch(0, {});
      } else if (st.kind == "pause") {
        if (st.duration >= 0) {
          outcome = Watch(st.duration, {});
        } else {
          reason_ = "paused until prodsprint promote";
          PS_TRY(
              Record("paused", {{"release.progress",
                                 {{"release", release_id_}, {"step", i}, {"phase", "paused"}}}}));
          outcome = Watch(-1, {});
          if (outcome == Outcome::kPromoteNow) outcome = Outcome::kDone;  // this pause only
          if (outcome == Outcome::kDone) reason_.clear();  // an abort keeps its reason
        }
      } else {  // analysis: until the candidate is shown safe; extend, never guess
        outcome = Watch(rc_->max_duration, [&] { return AllPromotable(); });
        if (outcome == Outcome::kDone && !AllPromotable()) {
          reason_ = "inconclusive after " + std::to_string(rc_->max_duration / 1000) +
                    " s: waiting for prodsprint promote or abort";
          Decide("analysis", "inconclusive", {{"step", i}});
          PS_TRY(Record("paused", {{"release.progress",
                                    {{"release", release_id_},
                                     {"step", i},
                                     {"phase", "paused"},
                                     {"reason", reason_}}}}));
          outcome = Watch(-1, {});
          if (outcome == Outcome::kPromoteNow) outcome = Outcome::kDone;
          if (outcome == Outcome::kDone) reason_.clear();
        } else if (outcome == Outcome::kDone) {
          Decide("analysis", "promotable", {{"step", i}});
          PS_TRY(Record("progressing", {{"release.progress",
                                         {{"release", release_id_},
                                          {"step", i},
                                          {"verdict", "promotable"},
                                          {"services", Stats()}}}}));
        }
      }
    }
    if (outcome == Outcome::kDone || outcome == Outcome::kPromoteNow) {
      Sample(true);
      StopTraffic();
      for (const auto& w : watched_) PS_TRY(env_.PromoteCandidate(w.name, false));
      weight_ = 100;
      promoted = true;
    }
  }

  if (!promoted) {
    const bool automatic = outcome == Outcome::kRollback;
    ctx_.Progress(1.0, (automatic ? "rolled back: " : "aborted: ") + reason_);
    PS_TRY(RollBack(reason_, automatic));
    out.facts = {{"release", release_id_}, {"version", version_},
                 {"strategy", strategy_},  {"status", automatic ? "rolledback" : "aborted"},
                 {"reason", reason_},      {"decisions", decisions_},
                 {"from", FromVersions()}, {"timeline", timeline_}};
    if (first_candidate_request_ > 0)
      out.facts["detection_ms"] = weight_zero_at_ - first_candidate_request_;
    out.metrics = {{"rolled_back", true}};
    // The run did its job: the stable version serves. Exit code 1 comes
    // from the release's status (docs/CLI.md).
    return out;
  }
  Decide("promote", "promoted");
  PS_TRY(Record("promoted", {{"release.progress",
                              {{"release", release_id_},
                               {"version", version_},
                               {"phase", "promoted"},
                               {"services", Stats()}}}}));
  ctx_.Progress(1.0, "promoted " + version_.substr(0, 12));
  out.facts = {{"release", release_id_}, {"version", version_},     {"strategy", strategy_},
               {"status", "promoted"},   {"decisions", decisions_}, {"from", FromVersions()},
               {"timeline", timeline_}};
  out.metrics = {{"rolled_back", false}};
  return out;
}

}  // namespace

Result<engine::StageOutput> ReleaseStage::Run(engine::StageContext& ctx) {
  // No ref: HEAD, or a folder outside git as it is (`up` on a working
  // tree); `prodsprint release` itself asks for --ref. A repository not
  // here is refused before the environment is touched.
  if (auto folder = RepositoryFolder(ctx); !folder.ok()) return std::move(folder).problem();
  PS_ASSIGN(const Config settings, RunSettings(ctx));
  const std::string strategy = ctx.run_input().value("strategy", "");
  if (const std::string s = strategy.empty() ? settings.release.strategy : strategy;
      s != "canary" && s != "bluegreen") {
    return problems::InvalidInput("strategy must be canary or bluegreen, not '" + s + "'");
  }
  PS_ASSIGN(auto env, deploy::OpenEnvironment(ctx, targets_));
  Release r(ctx, *env);
  return r.Run();
}

Result<engine::StageOutput> RollbackStage::Run(engine::StageContext& ctx) {
  const std::string envname = ctx.run_input().value("env", "staging");
  if (!deploy::EnvironmentExists(ctx, targets_, envname)) {
    return problems::NotFound("environment", envname);
  }
  PS_ASSIGN(auto env, deploy::OpenEnvironment(ctx, targets_));
  PS_TRY(env->Lock("rollback"));
  PS_ASSIGN(Json report,
            env->RollbackToPrevious([&](const std::string& m) { ctx.Progress(0.5, m); }));
  engine::StageOutput out;
  out.facts = {{"env", ctx.run_input().value("env", "staging")}, {"services", report}};
  store::Alert alert;
  alert.id = ctx.EffectKey("manual-rollback");
  alert.type = "release.rolledback";
  alert.severity = "warning";
  alert.action = "rolled back by request";
  alert.meta = {{"services", report}};
  engine::LiveRecord rec;
  rec.alert = alert;
  rec.events.push_back({"release.rolledback", {{"automatic", false}, {"services", report}}});
  PS_TRY(ctx.Record(std::move(rec)));
  return out;
}

}  // namespace ps::stages
