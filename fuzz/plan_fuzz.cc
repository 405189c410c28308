// The plan reads the repository too: Dockerfiles it reviews, the usage file it
// prices with, the existing prodsprint.yaml, and every fact the audit took
// from manifests. A small repository (fuzz/repo_input.h) is planned for each
// target; nothing may crash or hang.
#include "fuzz/repo_input.h"
#include "stages/audit/audit.h"
#include "stages/plan/blueprint.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  auto view = ps::stages::audit::OpenMemory(ps::fuzz::RepoFromInput(data, size));
  auto audited = ps::stages::audit::Audit(*view, {});
  if (!audited.ok()) return 0;
  auto read = ps::stages::plan::ReaderOf(*view);
  for (const char* target : {"local", "aws", "kubernetes", "render", "vercel"}) {
    ps::stages::plan::PlanOptions o{"fuzz", target, "production", ""};
    auto b = ps::stages::plan::MakeBlueprint(*audited, o, read);
    if (b.ok()) (void)ps::Dump(b->ToJson());
  }
  return 0;
}
