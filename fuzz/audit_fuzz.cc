// Every manifest the audit reads comes from the repository: untrusted. The
// input is a small repository (fuzz/repo_input.h).
#include "fuzz/repo_input.h"
#include "stages/audit/audit.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  auto view = ps::stages::audit::OpenMemory(ps::fuzz::RepoFromInput(data, size));
  auto result = ps::stages::audit::Audit(*view, {});
  if (result.ok()) (void)ps::Dump(*result);
  return 0;
}
