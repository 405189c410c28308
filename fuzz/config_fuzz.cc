// prodsprint.yaml comes from the repository being imported: untrusted.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "core/config.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  auto c = ps::ParseConfig(text, "fuzz.yaml");
  if (c.ok()) {
    // A valid config must render and re-validate.
    (void)ps::Dump(c->ToJson());
  } else {
    (void)ps::Dump(c.problem().ToJson());
  }
  (void)ps::ParseDuration(text);
  return 0;
}
