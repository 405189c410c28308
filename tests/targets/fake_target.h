// A target whose environments are simulated: no processes, no router. Time
// is the test's SimClock; each ReadRequests(ms) advances it by ms and returns
// the requests users sent in that time, split between stable and candidate
// by the weight the release set, failing and taking as long as the script
// says (seeded, so every run of a test sees the same requests). Health and
// requests from other commands (promote, abort) come from the script at
// chosen times. Everything the release does is recorded.
#pragma once

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "core/clock.h"
#include "targets/target.h"

namespace ps::testing {

// How the simulated users and versions behave.
struct FakeScript {
  double rate = 100;          // requests per second to each service
  double stable_error = 0.0;  // each version's failure probability
  double candidate_error = 0.0;
  double stable_ms = 20, candidate_ms = 20;  // each version's latency (mean of an exponential)
  Millis candidate_crash_at = -1;  // sim time (from the candidate's start) it gets unhealthy
  // Requests from another command ("promote", "abort"), by sim time since
  // the candidate started, sent through `send` (the engine's Signal).
  std::vector<std::pair<Millis, std::string>> control;
  std::function<void(const std::string&)> send;
  std::uint64_t seed = 42;
};

// What the release did to the environment.
struct FakeLog {
  std::vector<std::string> calls;  // "start shop", "weight shop 10", "promote shop", ...
  std::vector<int> weights;        // each weight set, in order
  int candidate_requests = 0, stable_requests = 0;
  Millis candidate_started = -1;
};

class FakeEnvironment final : public targets::Environment {
 public:
  FakeEnvironment(SimClock& clock, const FakeScript& script, FakeLog& log,
                  std::filesystem::path dir, std::map<std::string, targets::Serving>& stable)
      : clock_(clock),
        script_(script),
        log_(log),
        dir_(std::move(dir)),
        stable_(stable),
        rng_(script.seed) {}

  Status Lock(const std::string& operation) override {
    log_.calls.push_back("lock " + operation);
    return Ok();
  }
  void set_health_timeout(Millis) override {}
  std::filesystem::path ReleaseDir(const std::string& commit) const override {
    return dir_ / "releases" / commit;
  }
  std::filesystem::path LogDir() const override { return dir_ / "logs"; }
  std::filesystem::path DataDir() const override { return dir_; }
  Result<std::string> Secret(const std::string& name) override { return "secret-" + name; }
  std::string SecretsFile() const override { return (dir_ / "secrets.json").string(); }
  Result<targets::BackingInfo> EnsureBacking(const std::string& name, const std::string&) override {
    return targets::BackingInfo{name, 0, {}};
  }
  Result<Json> Deploy(const std::vector<targets::ServiceRun>& runs,
                      const targets::ProgressFn&) override {
    Json out = Json::array();
    for (const auto& r : runs) {
      const auto it = stable_.find(r.name);
      const bool same = it != stable_.end() && it->second.run.version == r.version &&
                        it->second.run.command == r.command;
      stable_[r.name] = {r, {}};
      log_.calls.push_back("deploy " + r.name);
      out.push_back({{"service", r.name},
                     {"action", same ? "unchanged" : "deployed"},
                     {"version", r.version}});
    }
    return out;
  }

  Status StartCandidate(const targets::ServiceRun& run, const targets::ProgressFn&) override {
    log_.calls.push_back("start " + run.name);
    candidate_[run.name] = {run, {}};
    weight_[run.name] = 0;
    log_.candidate_started = clock_.Now();
    return Ok();
  }
  Status SetCandidateWeight(const std::string& service, int percent) override {
    log_.calls.push_back("weight " + service + " " + std::to_string(percent));
    log_.weights.push_back(percent);
    weight_[service] = percent;
    return Ok();
  }
  Status PromoteCandidate(const std::string& service, bool keep_old_warm) override {
    log_.calls.push_back(std::string(keep_old_warm ? "switch " : "promote ") + service);
    stable_[service] = candidate_[service];
    candidate_.erase(service);
    return Ok();
  }
  Status RollbackCandidate(const std::string& service) override {
    log_.calls.push_back("rollback " + service);
    candidate_.erase(service);
    weight_[service] = 0;
    return Ok();
  }
  Result<Json> RollbackToPrevious(const targets::ProgressFn&) override { return Json::array(); }
  targets::Health CandidateHealth(const std::string& service) const override {
    targets::Health h;
    h.healthy = candidate_.count(service) != 0;
    if (script_.candidate_crash_at >= 0 &&
        clock_.Now() - log_.candidate_started >= script_.candidate_crash_at) {
      h.healthy = false;
      h.restarts = 1;
      h.detail = service + "-candidate exited (code 1)";
    }
    return h;
  }
  Status OpenRequests() override { return Ok(); }

  std::vector<targets::RequestOutcome> ReadRequests(Millis max_wait_ms) override {
    const Millis step = std::max<Millis>(1, max_wait_ms);
    clock_.Advance(step);
    const Millis since = clock_.Now() - log_.candidate_started;
    while (next_control_ < script_.control.size() &&
           since >= script_.control[next_control_].first) {
      if (script_.send) script_.send(script_.control[next_control_].second);
      ++next_control_;
    }
    std::vector<targets::RequestOutcome> out;
    for (const auto& [service, w] : weight_) {
      if (!stable_.count(service)) continue;
      carry_[service] += script_.rate * static_cast<double>(step) / 1000.0;
      while (carry_[service] >= 1) {
        carry_[service] -= 1;
        const bool candidate = candidate_.count(service) && Uniform() * 100 < w;
        const double p = candidate ? script_.candidate_error : script_.stable_error;
        const double mean = candidate ? script_.candidate_ms : script_.stable_ms;
        const bool failed = Uniform() < p;
        const double ms = -mean * std::log(1 - Uniform());
        (candidate ? log_.candidate_requests : log_.stable_requests)++;
        out.push_back({service, candidate, failed, ms});
      }
    }
    return out;
  }

  std::vector<std::string> Services() const override {
    std::vector<std::string> names;
    for (const auto& [n, s] : stable_) names.push_back(n);
    return names;
  }
  std::optional<targets::Serving> Stable(const std::string& service) const override {
    const auto it = stable_.find(service);
    if (it == stable_.end()) return std::nullopt;
    return it->second;
  }
  std::optional<targets::Serving> Candidate(const std::string& service) const override {
    const auto it = candidate_.find(service);
    if (it == candidate_.end()) return std::nullopt;
    return it->second;
  }
  std::optional<targets::ServiceRun> PreviousRun(const std::string&) const override {
    return std::nullopt;
  }
  int FrontendPort(const std::string&) const override { return 0; }
  Json Describe() const override { return Json::object(); }
  Status Down() override { return Ok(); }

 private:
  double Uniform() { return std::uniform_real_distribution<double>(0, 1)(rng_); }

  SimClock& clock_;
  const FakeScript& script_;
  FakeLog& log_;
  std::filesystem::path dir_;
  std::map<std::string, targets::Serving>& stable_;
  std::map<std::string, targets::Serving> candidate_;
  std::map<std::string, int> weight_;
  std::map<std::string, double> carry_;
  std::size_t next_control_ = 0;
  std::mt19937_64 rng_;
};

// The target "fake": one environment per name, its stable versions kept
// between opens.
class FakeTarget final : public targets::Target {
 public:
  FakeTarget(SimClock& clock, std::filesystem::path dir) : clock_(clock), dir_(std::move(dir)) {}
  std::string name() const override { return "fake"; }
  Result<std::unique_ptr<targets::Environment>> Open(const targets::EnvRef& ref) override {
    return std::unique_ptr<targets::Environment>(
        std::make_unique<FakeEnvironment>(clock_, script, log, dir_ / ref.env, stable[ref.env]));
  }
  bool Exists(const targets::EnvRef& ref) const override { return stable.count(ref.env) != 0; }
  std::vector<std::string> Environments(const targets::EnvRef&) const override {
    std::vector<std::string> names;
    for (const auto& [n, s] : stable) names.push_back(n);
    return names;
  }
  std::optional<std::string> LockHolder(const targets::EnvRef&) const override {
    return std::nullopt;
  }
  Status Remove(const targets::EnvRef& ref) override {
    stable.erase(ref.env);
    return Ok();
  }

  FakeScript script;
  FakeLog log;
  std::map<std::string, std::map<std::string, targets::Serving>> stable;  // env -> service -> run

 private:
  SimClock& clock_;
  std::filesystem::path dir_;
};

}  // namespace ps::testing
