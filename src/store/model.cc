#include "store/model.h"

#include <array>
#include <utility>

#include "core/fs.h"

namespace ps::store {

namespace {
template <class E, std::size_t N>
std::string_view Name(const std::array<std::pair<E, std::string_view>, N>& table, E v) {
  for (const auto& [e, s] : table) {
    if (e == v) return s;
  }
  return "?";
}
template <class E, std::size_t N>
bool Find(const std::array<std::pair<E, std::string_view>, N>& table, std::string_view s, E* out) {
  for (const auto& [e, name] : table) {
    if (name == s) {
      *out = e;
      return true;
    }
  }
  return false;
}

constexpr std::array<std::pair<RunKind, std::string_view>, 6> kRunKinds{{
    {RunKind::kImport, "import"},
    {RunKind::kBlueprint, "blueprint"},
    {RunKind::kApply, "apply"},
    {RunKind::kReadiness, "readiness"},
    {RunKind::kRelease, "release"},
    {RunKind::kRollback, "rollback"},
}};
constexpr std::array<std::pair<RunStatus, std::string_view>, 4> kRunStatuses{{
    {RunStatus::kPending, "pending"},
    {RunStatus::kRunning, "running"},
    {RunStatus::kDone, "done"},
    {RunStatus::kError, "error"},
}};
constexpr std::array<std::pair<ArtifactType, std::string_view>, 9> kArtifactTypes{{
    {ArtifactType::kIac, "iac"},
    {ArtifactType::kCicd, "cicd"},
    {ArtifactType::kTests, "tests"},
    {ArtifactType::kSbom, "sbom"},
    {ArtifactType::kPerf, "perf"},
    {ArtifactType::kObservability, "observability"},
    {ArtifactType::kRelease, "release"},
    {ArtifactType::kRunbook, "runbook"},
    {ArtifactType::kAudit, "audit"},
}};
constexpr std::array<std::pair<StageStatus, std::string_view>, 6> kStageStatuses{{
    {StageStatus::kBlocked, "blocked"},
    {StageStatus::kReady, "ready"},
    {StageStatus::kRunning, "running"},
    {StageStatus::kDone, "done"},
    {StageStatus::kError, "error"},
    {StageStatus::kCancelled, "cancelled"},
}};
constexpr std::array<std::pair<AttemptStatus, std::string_view>, 6> kAttemptStatuses{{
    {AttemptStatus::kRunning, "running"},
    {AttemptStatus::kDone, "done"},
    {AttemptStatus::kFailed, "failed"},
    {AttemptStatus::kLost, "lost"},
    {AttemptStatus::kCancelled, "cancelled"},
    {AttemptStatus::kTimeout, "timeout"},
}};
}  // namespace

std::string_view ToString(RunKind v) { return Name(kRunKinds, v); }
std::string_view ToString(RunStatus v) { return Name(kRunStatuses, v); }
std::string_view ToString(ArtifactType v) { return Name(kArtifactTypes, v); }
std::string_view ToString(StageStatus v) { return Name(kStageStatuses, v); }
std::string_view ToString(AttemptStatus v) { return Name(kAttemptStatuses, v); }
bool Parse(std::string_view s, RunKind* out) { return Find(kRunKinds, s, out); }
bool Parse(std::string_view s, RunStatus* out) { return Find(kRunStatuses, s, out); }
bool Parse(std::string_view s, ArtifactType* out) { return Find(kArtifactTypes, s, out); }
bool Parse(std::string_view s, StageStatus* out) { return Find(kStageStatuses, s, out); }
bool Parse(std::string_view s, AttemptStatus* out) { return Find(kAttemptStatuses, s, out); }

bool IsKnownEventName(std::string_view name) {
  static constexpr std::array<std::string_view, 10> kBrief{
      "project.imported", "plan.ready",        "iac.applied",    "cicd.emitted",
      "tests.generated",  "security.passed",   "perf.baselined", "readiness.ready",
      "release.progress", "release.rolledback"};
  for (auto n : kBrief) {
    if (n == name) return true;
  }
  for (std::string_view prefix : {"error.", "run.", "stage."}) {
    if (name.size() > prefix.size() && name.substr(0, prefix.size()) == prefix) return true;
  }
  return false;
}

}  // namespace ps::store

namespace ps::store {

std::string AuditHash(const AuditEntry& e) {
  // A JSON array: one unambiguous encoding (objects' keys sorted), the same
  // in every backend and every language that wants to check an export.
  const Json fields = Json::array({e.prev_hash, e.id, e.tenant.org_id, e.tenant.workspace_id,
                                   e.user_id, e.action, e.target, e.meta, e.created_at});
  return Sha256Hex(Dump(fields));
}

}  // namespace ps::store
