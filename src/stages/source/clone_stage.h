// The import run's first stage for a project named by a git URL: clones it
// into the run's checkout (input.checkout, under the state folder), or
// fetches into the checkout an earlier import made, and checks out the
// run's ref (default: the remote's HEAD). Git runs without the user's or the
// system's configuration, with no prompts, no hooks and no submodules.
#pragma once

#include "engine/stage.h"

namespace ps::stages {

class CloneStage final : public engine::Stage {
 public:
  static constexpr const char* kName = "clone";
  Result<engine::StageOutput> Run(engine::StageContext& ctx) override;
};

// The URL as it may be shown: any user:password@ taken out.
std::string RedactUrl(const std::string& url);

}  // namespace ps::stages
