// HTTP responses come from the services under test (any bytes at all): the
// load generator's parser must end in done, more, or error — fed whole and
// fed one byte at a time, with the same answer.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "load/http_load.h"

using ps::load::ResponseParser;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view d(reinterpret_cast<const char*>(data), size);
  ResponseParser whole;
  std::size_t used = 0;
  const auto a = whole.Feed(d, used);
  if (used > d.size()) __builtin_trap();

  ResponseParser bytes;
  ResponseParser::State b = ResponseParser::State::kNeedMore;
  std::size_t total = 0;
  for (std::size_t i = 0; i < d.size() && b == ResponseParser::State::kNeedMore; ++i) {
    std::size_t u = 0;
    b = bytes.Feed(d.substr(i, 1), u);
    total += u;
  }
  if (d.size() > 0 && a != b) __builtin_trap();
  if (a == ResponseParser::State::kDone && (used != total || whole.status() != bytes.status()))
    __builtin_trap();
  if (a == ResponseParser::State::kNeedMore) (void)whole.Close();
  return 0;
}
