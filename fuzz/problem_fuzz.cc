// Problem documents arrive from peers (the API, stored runs): untrusted JSON.
#include <cstddef>
#include <cstdint>

#include "core/problem.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  auto j = ps::Json::parse(data, data + size, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) return 0;
  auto p = ps::Problem::FromJson(j);
  if (p) {
    auto again = ps::Problem::FromJson(p->ToJson());
    if (!again || again->title != p->title || again->status != p->status) __builtin_trap();
    (void)p->Message();
  }
  return 0;
}
