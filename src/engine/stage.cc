#include "engine/stage.h"

namespace ps::engine {

StageContext::StageContext(Init init, Clock& clock, artifacts::ArtifactStore& artifacts, Logger log,
                           std::function<void(double, const std::string&)> progress)
    : init_(std::move(init)),
      clock_(clock),
      artifacts_(artifacts),
      log_(std::move(log)),
      progress_(std::move(progress)) {}

const Json& StageContext::Input(const std::string& stage) const {
  static const Json kNull;
  auto it = init_.inputs.find(stage);
  return it == init_.inputs.end() ? kNull : it->second;
}

std::string StageContext::AttemptKey() const {
  return init_.project.id + ":" + init_.run.id + ":" + init_.stage + ":" +
         std::to_string(init_.attempt);
}

std::string StageContext::EffectKey(std::string_view effect) const {
  return init_.project.id + ":" + init_.run.id + ":" + init_.stage + ":" + std::string(effect);
}

bool StageContext::Stopping() {
  if (stop_.load() != StopReason::kNone) return true;
  if (interrupt_ && interrupt_->load()) {
    RequestStop(StopReason::kInterrupted);
    return true;
  }
  if (init_.deadline > 0 && clock_.Now() >= init_.deadline) {
    RequestStop(StopReason::kTimeout);
    return true;
  }
  return false;
}

void StageContext::RequestStop(StopReason r) {
  StopReason expected = StopReason::kNone;
  stop_.compare_exchange_strong(expected, r);
}

void StageContext::Progress(double fraction, const std::string& message) {
  if (progress_) progress_(fraction, message);
}

Status StageContext::Record(LiveRecord record) {
  if (!recorder_) return problems::Internal("this stage context records nothing");
  return recorder_(std::move(record));
}

Result<ArtifactOut> StageContext::PutArtifact(store::ArtifactType type, std::string name,
                                              std::string_view content, std::string media_type,
                                              Json meta) {
  PS_ASSIGN(artifacts::BlobRef blob, artifacts_.Put(content));
  ArtifactOut a;
  a.type = type;
  a.name = std::move(name);
  a.media_type = std::move(media_type);
  a.meta = std::move(meta);
  a.blob = blob;
  return a;
}

std::unique_ptr<Stage> StageRegistry::Create(const std::string& name) const {
  auto it = factories_.find(name);
  if (it == factories_.end()) return nullptr;
  return it->second();
}

std::vector<std::string> StageRegistry::Names() const {
  std::vector<std::string> out;
  for (const auto& [k, v] : factories_) out.push_back(k);
  return out;
}

}  // namespace ps::engine
