#include "service/up.h"

#include <algorithm>

#include "service/environments.h"
#include "service/waivers.h"

namespace ps::service {
namespace {

using store::Run;
using store::RunStatus;

// The pipeline's steps, in order; each one's run decides whether the next
// one happens.
enum class Step { kImport, kPlan, kApply, kReadiness, kProduction, kReport, kDone };

class UpMachine {
 public:
  UpMachine(App& app, const store::Tenant& tenant, const Actor& actor,
            const store::Project& project, const UpRequest& request, const Drive& drive,
            const UpListener& listener)
      : app_(app),
        tenant_(tenant),
        actor_(actor),
        project_(project),
        req_(request),
        drive_(drive),
        listener_(listener) {}

  Result<UpOutcome> Go() {
    Step step = Step::kImport;
    while (step != Step::kDone) {
      PS_ASSIGN(step, Do(step));
    }
    Conclude();
    return std::move(out_);
  }

 private:
  Result<Step> Do(Step step) {
    switch (step) {
      case Step::kImport:
        return Import();
      case Step::kPlan:
        return Plan();
      case Step::kApply:
        return Apply();
      case Step::kReadiness:
        return Readiness();
      case Step::kProduction:
        return Production();
      case Step::kReport:
        return Report();
      case Step::kDone:
        break;
    }
    return Step::kDone;
  }

  void Note(const std::string& m) const {
    if (listener_.note) listener_.note(m);
  }

  Json Base(const std::string& env) const {
    // The repository is the project's (stages read it from the project's
    // record): a run's input names no host path.
    Json in = Json::object();
    if (!env.empty()) in["env"] = env;
    if (!req_.ref.empty()) in["ref"] = req_.ref;
    return in;
  }

  // The run of `kind` for `given`: the newest of its kind and environment
  // resumed, replayed or reused when its input is the same, else a new one.
  Result<store::Run> RunOf(store::RunKind kind, const Json& given,
                           const std::function<void()>& on_interrupt = {}, bool reuse = false) {
    const Json input = WithSettings(app_.config, given);
    PS_ASSIGN(auto runs, ListRuns(app_, tenant_, project_.id, 50));
    const std::string kind_name(store::ToString(kind));
    std::string run_id;
    for (const auto& r : runs) {
      if (r.kind != kind || r.input.value("env", "") != input.value("env", "")) continue;
      const bool same = r.input == input;
      if (!Finished(r.status)) {
        if (same) {
          run_id = r.id;
          Note("resuming unfinished " + kind_name + " run " + r.id);
          break;
        }
        (void)app_.engine.Cancel(tenant_, r.id, "up (a newer " + kind_name + " run)");
        continue;
      }
      if (same && r.status == RunStatus::kError && Retry(app_, tenant_, actor_, r.id).ok()) {
        run_id = r.id;
        Note("resuming failed " + kind_name + " run " + r.id +
             " from its failed stage (finished stages are not redone)");
      } else if (same && reuse && r.status == RunStatus::kDone) {
        Note(kind_name + " run " + r.id + " reused: it checked this very version with this input");
        return r;
      }
      break;  // only the newest run of the kind counts
    }
    if (run_id.empty()) {
      PS_ASSIGN(store::Run run, Submit(app_, tenant_, actor_, project_, kind, given));
      run_id = run.id;
      Note(kind_name + " run " + run_id);
    }
    return drive_(run_id, on_interrupt);
  }

  // Runs `kind` and loads its detail; a run that did not finish well
  // becomes the outcome's deciding run.
  Result<RunDetail> RunStep(store::RunKind kind, const Json& input,
                            const std::function<void()>& on_interrupt = {}, bool reuse = false) {
    PS_ASSIGN(store::Run run, RunOf(kind, input, on_interrupt, reuse));
    PS_ASSIGN(RunDetail d, LoadDetail(app_, tenant_, run.id));
    if (run.status != RunStatus::kDone || first_) out_.run = run;
    first_ = false;
    return d;
  }

  bool Going() const { return out_.run.status == RunStatus::kDone; }

  Result<Step> Import() {
    PS_ASSIGN(out_.import, RunStep(store::RunKind::kImport, Base("")));
    if (const Json* s = out_.import.Output("source")) {
      out_.source = *s;
      // What the later runs are for: the tree's content fingerprint (and the
      // revision), so that a failed run is resumed only for the same source.
      source_key_ = s->value("tree", Json::object()).value("fingerprint", "");
    }
    return Going() ? Step::kPlan : Step::kReport;
  }

  Result<Step> Plan() {
    Json in = Base(req_.staging);
    in["target"] = req_.plan_target;
    PS_ASSIGN(out_.blueprint, RunStep(store::RunKind::kBlueprint, in));
    if (!Going()) return Step::kReport;
    return req_.apply ? Step::kApply : Step::kReadiness;
  }

  // The planned version runs as staging.
  Result<Step> Apply() {
    Json in = Base(req_.staging);
    in["target"] = req_.target;
    in["source"] = source_key_;
    PS_ASSIGN(out_.apply, RunStep(store::RunKind::kApply, in));
    if (const Json* a = out_.apply->Output("apply")) out_.version = a->value("version", "");
    return Going() ? Step::kReadiness : Step::kReport;
  }

  // The gates, in staging with apply (without it nothing is provisioned and
  // the test gate says it did not run). A gate that blocks stops the
  // pipeline here, with its reasons.
  Result<Step> Readiness() {
    PS_ASSIGN(Json waivers, WaiversOf(app_, tenant_, project_.id));
    Json in = Base(req_.staging);
    in["waivers"] = waivers;
    if (req_.apply) {
      in["provisioned"] = true;
      in["target"] = req_.target;
      // The performance gate compares with what production serves, run
      // beside the candidate on staging.
      in["reference_env"] = req_.production;
    }
    in["source"] = source_key_;
    // Reused only when apply found staging already running this version (so
    // smoke and performance measured what still serves) and no waiver could
    // have expired since.
    bool staging_unchanged = req_.apply && out_.apply.has_value();
    if (out_.apply) {
      if (const Json* a = out_.apply->Output("apply")) {
        for (const auto& svc : a->value("services", Json::array()))
          staging_unchanged = staging_unchanged && svc.value("action", "") == "unchanged";
      }
    }
    PS_ASSIGN(out_.readiness,
              RunStep(store::RunKind::kReadiness, in, {}, staging_unchanged && waivers.empty()));
    for (const auto& st : out_.readiness->stages) {
      if (!st.output.is_object()) continue;
      if (st.output.contains("passed")) {
        if (st.name == "security") out_.security = st.output;
        if (st.name == "tests") out_.tests = st.output;
        if (st.name == "performance") out_.performance = st.output;
      }
      if (st.name == "checklist" && st.output.contains("ready")) out_.checklist = st.output;
    }
    // The checklist decides (a waived gate does not block).
    out_.gate_blocks = out_.checklist.is_object() && !out_.checklist["ready"].get<bool>();
    if (!Going() || !req_.apply || !out_.checklist.is_object() || out_.gate_blocks)
      return Step::kReport;
    return Step::kProduction;
  }

  // A ready version goes to production: the first time by an apply (there
  // is nothing to compare a canary with), after that by a release run
  // (canary or blue/green, as release: says) against what production
  // serves, rolled back by itself when the new version is worse.
  Result<Step> Production() {
    Json in = Base(req_.production);
    in["target"] = req_.target;
    in["source"] = source_key_;
    if (HasStable(app_, tenant_, project_, req_.target, req_.production)) {
      out_.release_kind = "release";
      if (listener_.phase) listener_.phase("Release to " + req_.production);
      // Interrupted, the release aborts (weight 0, the new version stops)
      // rather than leaving traffic split with nobody watching; here, in
      // this process: no store needed (the disk may be full).
      PS_ASSIGN(out_.release, RunStep(store::RunKind::kRelease, in, [this] {
                  Note("interrupted: aborting the release");
                  app_.engine.InterruptRunningStages();
                }));
    } else {
      out_.release_kind = "first deploy";
      if (listener_.phase) listener_.phase("First deployment to " + req_.production);
      PS_ASSIGN(out_.release, RunStep(store::RunKind::kApply, in));
    }
    for (const auto& st : out_.release->stages) {
      if ((st.name == "release" || st.name == "apply") && st.output.is_object())
        out_.release_out = st.output;
    }
    if (out_.release_kind == "release" && out_.release_out.is_object())
      out_.release_status = out_.release_out.value("status", "");
    out_.rolled_back = out_.release_status == "rolledback" || out_.release_status == "aborted";
    return Step::kReport;
  }

  // The report: Markdown and HTML, stored as artifacts of the deciding run
  // (and as files where the request says).
  Result<Step> Report() {
    Conclude();
    if (!req_.apply || !out_.apply) return Step::kDone;
    UpReport rep;
    rep.project = project_.name;
    rep.repo = req_.repo;
    rep.version = out_.version;
    rep.ref = req_.ref;
    rep.run_id = out_.run.id;
    rep.at = app_.clock.Now();
    if (const Json* a = out_.import.Output("audit")) rep.audit = *a;
    if (out_.blueprint) {
      if (const Json* p = out_.blueprint->Output("plan")) rep.plan = *p;
    }
    if (const Json* a = out_.apply->Output("apply")) rep.staging = *a;
    if (out_.security.is_object()) rep.security = out_.security;
    if (out_.tests.is_object()) rep.tests = out_.tests;
    if (out_.performance.is_object()) rep.performance = out_.performance;
    if (out_.checklist.is_object()) rep.checklist = out_.checklist;
    rep.release_kind = out_.release_kind;
    rep.release_env = req_.production;
    if (out_.release_out.is_object()) rep.release = out_.release_out;
    rep.outcome = out_.outcome;
    auto history = store::ReadValue<std::vector<store::Release>>(
        app_.store, [&](store::Tx& tx) { return tx.ListReleases(tenant_, project_.id); });
    if (history.ok()) {
      rep.history = *history;
      std::sort(rep.history.begin(), rep.history.end(),
                [](const store::Release& a, const store::Release& b) {
                  return a.created_at > b.created_at;
                });
    }
    // A report that cannot be stored does not undo what happened (what
    // failed is in the report's problems).
    out_.report = StoreReport(app_, tenant_, project_.id, out_.run.id, rep, req_.reports_dir);
    return Step::kDone;
  }

  // What happened, in one line (the summary's last word and the report's first).
  void Conclude() {
    const std::string prod = req_.production;
    const std::string v = out_.version.substr(0, 12);
    if (out_.run.status != RunStatus::kDone) {
      out_.outcome = "Stopped: the " + std::string(store::ToString(out_.run.kind)) + " run failed";
    } else if (out_.gate_blocks) {
      out_.outcome = "Not released: the readiness checklist is not ready";
    } else if (!req_.apply) {
      out_.outcome =
          "Audited and planned; nothing deployed ('up --apply' deploys, checks and releases)";
    } else if (out_.release_kind == "first deploy") {
      out_.outcome = "Version " + v + " deployed to " + prod + " (its first version)";
    } else if (out_.release_status == "promoted") {
      out_.outcome = "Version " + v + " promoted in " + prod;
    } else if (out_.release_status == "unchanged") {
      out_.outcome = "Nothing to release: " + prod + " already runs " + v;
    } else if (out_.rolled_back) {
      out_.outcome =
          "Version " + v + " rolled back in " + prod + ": " + out_.release_out.value("reason", "");
    }
  }

  App& app_;
  const store::Tenant& tenant_;
  const Actor& actor_;
  const store::Project& project_;
  const UpRequest& req_;
  const Drive& drive_;
  const UpListener& listener_;
  UpOutcome out_;
  std::string source_key_;
  bool first_ = true;
};

}  // namespace

Json UpOutcome::ToJson() const {
  auto detail = [](const std::optional<RunDetail>& d) {
    return d ? DetailJson(*d) : Json(nullptr);
  };
  auto or_null = [](const Json& j) { return j.is_object() ? j : Json(nullptr); };
  Json out = DetailJson(import);
  out["blueprint_run"] = detail(blueprint);
  out["apply_run"] = detail(apply);
  out["readiness_run"] = detail(readiness);
  out["checklist"] = or_null(checklist);
  out["release_run"] = detail(release);
  out["release"] = or_null(release_out);
  out["release_kind"] = release_kind.empty() ? Json(nullptr) : Json(release_kind);
  out["outcome"] = outcome;
  out["report"] = nullptr;
  if (report) {
    Json r = {{"artifacts", Json::array()}};
    for (const auto& a : report->artifacts)
      r["artifacts"].push_back({{"id", a.id}, {"name", a.name}});
    if (report->files) {
      r["markdown"] = report->files->markdown.string();
      r["html"] = report->files->html.string();
    }
    if (!report->problems.empty()) r["problems"] = report->problems;
    out["report"] = r;
  }
  return out;
}

Result<UpOutcome> Up(App& app, const store::Tenant& tenant, const Actor& actor,
                     const store::Project& project, const UpRequest& request, const Drive& drive,
                     const UpListener& listener) {
  UpMachine m(app, tenant, actor, project, request, drive, listener);
  return m.Go();
}

}  // namespace ps::service
