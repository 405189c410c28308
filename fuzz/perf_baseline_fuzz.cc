// A stored performance baseline is read back from the environment folder,
// where anything may have changed it: the route measurement reader must
// accept or refuse it, never crash; what it accepts must answer quantiles
// in order and compare with itself without a regression.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "core/json.h"
#include "load/regression.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  const ps::Json j = ps::Json::parse(text, nullptr, false);
  if (j.is_discarded()) return 0;
  auto sample = ps::load::RouteSample::FromJson(j);
  if (!sample.ok()) return 0;
  const auto& h = sample->latency;
  double last = 0;
  for (const double q : {0.0, 0.5, 0.9, 0.99, 0.999, 1.0}) {
    const double v = h.QuantileMs(q);
    if (v < last || v < 0) __builtin_trap();
    last = v;
  }
  if (h.count() && (h.MinMs() > h.MaxMs() || h.QuantileMs(1.0) != h.MaxMs())) __builtin_trap();
  const auto v = ps::load::CompareRoute(*sample, *sample, {}, 3);
  if (v.judged) {
    for (const auto& c : v.quantiles) {
      if (c.regressed) __builtin_trap();
    }
  }
  (void)v.ToJson();
  auto back = ps::load::RouteSample::FromJson(sample->ToJson());
  if (!back.ok() || back->latency.count() != h.count()) __builtin_trap();
  return 0;
}
