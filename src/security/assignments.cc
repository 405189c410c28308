#include "security/assignments.h"

#include <algorithm>
#include <cstdint>
#include <cstring>

#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
#define PS_ASSIGNMENTS_AVX2 1
#endif

namespace ps::security {

namespace {

// Byte classes by nibbles: a byte is in a class when the bits its low and
// its high nibble select share one. Bits 0-5 and 7 are the value bytes
// [A-Za-z0-9_/+=.~!@#$%^&*()-] and DEL, as products of nibble sets (A-O
// a-o; P-Z p-z; 0-9 =; + - . /; ^ _ ~ DEL; @; ! # $ % & ( ) *); bit 6 the
// signs ':' and '='. The same two tables serve the vector pass (two byte shuffles)
// and the portable loop.
constexpr std::uint8_t kLow[16] = {0x26, 0x87, 0x07, 0x87, 0x87, 0x87, 0x87, 0x07,
                                   0x87, 0x87, 0xC3, 0x09, 0x01, 0x4D, 0x19, 0x19};
constexpr std::uint8_t kHigh[16] = {0, 0, 0x88, 0x44, 0x21, 0x12, 0x01, 0x12,
                                    0, 0, 0,    0,    0,    0,    0,    0};
constexpr std::uint8_t kValueBits = 0xBF, kSignBit = 0x40;

inline std::uint8_t ClassOf(unsigned char c) { return kLow[c & 15] & kHigh[c >> 4]; }
inline bool IsValue(unsigned char c) { return (ClassOf(c) & kValueBits) != 0; }
inline bool IsName(unsigned char c) {  // [A-Za-z0-9_.-]
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' ||
         c == '.' || c == '-';
}
// Not std::tolower: a call per byte, and the locale's idea of a letter.
inline char AsciiLower(unsigned char c) {
  return static_cast<char>(c >= 'A' && c <= 'Z' ? c + ('a' - 'A') : c);
}
inline bool IsBase64(unsigned char c) {  // [A-Za-z0-9/+]
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '/' ||
         c == '+';
}
inline bool IsBlank(unsigned char c) { return c == ' ' || c == '\t'; }
inline bool IsQuote(unsigned char c) { return c == '"' || c == '\''; }

// From the value bytes of two consecutive 64-byte blocks and the signs of
// the first: the signs whose bytes 9 to 16 on are all value bytes. Every
// sign the finder takes has them (its 16 value bytes start 1 to 8 bytes on:
// six blanks and a quote at most), so the exact check sees all of those and few others.
inline std::uint64_t CandidateBits(std::uint64_t v0, std::uint64_t v1, std::uint64_t a0) {
  static_assert(AssignmentFinder::kMaxValueGap + 2 + 8 == 16 && AssignmentFinder::kMinValue == 16);
  // The value bits from byte 9 on, in two words (lo: bytes 9 to 72), each
  // step and-ing in the bits 1, 2, then 4 further on.
  std::uint64_t lo = (v0 >> 9) | (v1 << 55), hi = v1 >> 9;
  lo &= (lo >> 1) | (hi << 63);  // value bytes at i+9 and i+10
  hi &= hi >> 1;
  lo &= (lo >> 2) | (hi << 62);  // ... i+9 to i+12
  hi &= hi >> 2;
  lo &= (lo >> 4) | (hi << 60);  // ... i+9 to i+16
  return a0 & lo;
}

// The candidate signs of the block at `b` (its value and sign masks, and
// the next block's value mask), as offsets from `begin` written at `out`;
// signs at or past `end` are left out. No call in the passes' loops (a call
// would make the compiler keep the vector constants in memory).
inline std::uint32_t* EmitBlock(std::uint64_t v0, std::uint64_t v1, std::uint64_t a0, std::size_t b,
                                std::size_t begin, std::size_t end, std::uint32_t* out) {
  std::uint64_t c = CandidateBits(v0, v1, a0);
  if (end - b < 64) c &= (std::uint64_t{1} << (end - b)) - 1;
  for (; c != 0; c &= c - 1)
    *out++ = static_cast<std::uint32_t>(b - begin + static_cast<std::size_t>(__builtin_ctzll(c)));
  return out;
}

// The 64 bytes at `at` (zeros past the end of the text) as masks.
void MasksPortable(const unsigned char* d, std::size_t n, std::size_t at, std::uint64_t* v,
                   std::uint64_t* a) {
  *v = *a = 0;
  const std::size_t stop = std::min<std::size_t>(n, at + 64);
  for (std::size_t i = at; i < stop; ++i) {
    const std::uint8_t c = ClassOf(d[i]);
    *v |= static_cast<std::uint64_t>((c & kValueBits) != 0) << (i - at);
    *a |= static_cast<std::uint64_t>((c & kSignBit) != 0) << (i - at);
  }
}

// The candidate signs in [begin, end) of the n bytes at d, as offsets from
// `begin` written at `out` (room for end - begin); answers how many.
std::size_t CandidatesPortable(const unsigned char* d, std::size_t n, std::size_t begin,
                               std::size_t end, std::uint32_t* out) {
  std::uint32_t* const first = out;
  std::uint64_t v0, a0, v1, a1;
  MasksPortable(d, n, begin, &v0, &a0);
  for (std::size_t b = begin; b < end; b += 64) {
    MasksPortable(d, n, b + 64, &v1, &a1);
    out = EmitBlock(v0, v1, a0, b, begin, end, out);
    v0 = v1;
    a0 = a1;
  }
  return static_cast<std::size_t>(out - first);
}

#ifdef PS_ASSIGNMENTS_AVX2
// The classes of 32 bytes as two bit masks (value bytes, signs).
__attribute__((target("avx2"), always_inline)) inline void Masks32(
    const unsigned char* q, __m256i low, __m256i high, __m256i nibble, __m256i value_bits,
    __m256i sign_bit, std::uint32_t* v, std::uint32_t* a) {
  const __m256i x = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(q));
  const __m256i c = _mm256_and_si256(
      _mm256_shuffle_epi8(low, _mm256_and_si256(x, nibble)),
      _mm256_shuffle_epi8(high, _mm256_and_si256(_mm256_srli_epi16(x, 4), nibble)));
  const __m256i zero = _mm256_setzero_si256();
  *v = ~static_cast<std::uint32_t>(
      _mm256_movemask_epi8(_mm256_cmpeq_epi8(_mm256_and_si256(c, value_bits), zero)));
  *a = ~static_cast<std::uint32_t>(
      _mm256_movemask_epi8(_mm256_cmpeq_epi8(_mm256_and_si256(c, sign_bit), zero)));
}

__attribute__((target("avx2"))) std::size_t CandidatesAvx2(const unsigned char* d, std::size_t n,
                                                           std::size_t begin, std::size_t end,
                                                           std::uint32_t* out) {
  std::uint32_t* const first = out;
  const __m256i low =
      _mm256_broadcastsi128_si256(_mm_loadu_si128(reinterpret_cast<const __m128i*>(kLow)));
  const __m256i high =
      _mm256_broadcastsi128_si256(_mm_loadu_si128(reinterpret_cast<const __m128i*>(kHigh)));
  const __m256i nibble = _mm256_set1_epi8(0x0F);
  const __m256i value_bits = _mm256_set1_epi8(kValueBits), sign_bit = _mm256_set1_epi8(kSignBit);
  alignas(32) unsigned char pad[64];
  // The 64 bytes at `at`, zero-padded past the text's end.
  auto block = [&](std::size_t at) -> const unsigned char* {
    if (at + 64 <= n) return d + at;
    std::memset(pad, 0, sizeof pad);
    if (at < n) std::memcpy(pad, d + at, n - at);
    return pad;
  };
  std::uint32_t v[4], a[4];
  const unsigned char* q = block(begin);
  Masks32(q, low, high, nibble, value_bits, sign_bit, &v[0], &a[0]);
  Masks32(q + 32, low, high, nibble, value_bits, sign_bit, &v[1], &a[1]);
  for (std::size_t b = begin; b < end; b += 64) {
    q = block(b + 64);
    Masks32(q, low, high, nibble, value_bits, sign_bit, &v[2], &a[2]);
    Masks32(q + 32, low, high, nibble, value_bits, sign_bit, &v[3], &a[3]);
    out = EmitBlock((std::uint64_t{v[1]} << 32) | v[0], (std::uint64_t{v[3]} << 32) | v[2],
                    (std::uint64_t{a[1]} << 32) | a[0], b, begin, end, out);
    v[0] = v[2];
    v[1] = v[3];
    a[0] = a[2];
    a[1] = a[3];
  }
  return static_cast<std::size_t>(out - first);
}

// AVX-512 (BW): the classes of 64 bytes at once, straight into bit masks.
struct Avx512Tables {
  __m512i low, high, nibble, value_bits, sign_bit;
};

__attribute__((target("avx512f,avx512bw"), always_inline)) inline void Masks64(
    const Avx512Tables& k, const unsigned char* d, std::size_t n, std::size_t at, std::uint64_t* v,
    std::uint64_t* a) {
  __m512i x;
  if (at + 64 <= n) {
    x = _mm512_loadu_si512(d + at);
  } else {  // past the text's end a masked load reads zeros, never the bytes
    const __mmask64 in = at >= n ? 0 : (__mmask64{1} << (n - at)) - 1;
    x = _mm512_maskz_loadu_epi8(in, at < n ? d + at : d);
  }
  const __m512i c = _mm512_and_si512(
      _mm512_shuffle_epi8(k.low, _mm512_and_si512(x, k.nibble)),
      _mm512_shuffle_epi8(k.high, _mm512_and_si512(_mm512_srli_epi16(x, 4), k.nibble)));
  *v = _mm512_test_epi8_mask(c, k.value_bits);
  *a = _mm512_test_epi8_mask(c, k.sign_bit);
}

__attribute__((target("avx512f,avx512bw"))) std::size_t CandidatesAvx512(
    const unsigned char* d, std::size_t n, std::size_t begin, std::size_t end, std::uint32_t* out) {
  std::uint32_t* const first = out;
  const Avx512Tables k = {
      _mm512_broadcast_i32x4(_mm_loadu_si128(reinterpret_cast<const __m128i*>(kLow))),
      _mm512_broadcast_i32x4(_mm_loadu_si128(reinterpret_cast<const __m128i*>(kHigh))),
      _mm512_set1_epi8(0x0F), _mm512_set1_epi8(kValueBits), _mm512_set1_epi8(kSignBit)};
  std::uint64_t v0, a0, v1, a1;
  Masks64(k, d, n, begin, &v0, &a0);
  for (std::size_t b = begin; b < end; b += 64) {
    Masks64(k, d, n, b + 64, &v1, &a1);
    out = EmitBlock(v0, v1, a0, b, begin, end, out);
    v0 = v1;
    a0 = a1;
  }
  return static_cast<std::size_t>(out - first);
}

#endif

}  // namespace

AssignmentFinder::AssignmentFinder(std::vector<AssignmentRule> rules) {
  auto lowered = [](std::vector<std::string> words, std::size_t* longest) {
    std::vector<std::string> out;
    for (auto& w : words) {
      for (auto& c : w) c = AsciiLower(static_cast<unsigned char>(c));
      if (w.empty() || w.size() > kMaxKeyword) continue;
      if (longest) *longest = std::max(*longest, w.size());
      out.push_back(std::move(w));
    }
    return out;
  };
  for (auto& r : rules) {
    Rule x;
    x.keywords = lowered(std::move(r.keywords), &x.longest);
    x.qualifiers = lowered(std::move(r.qualifiers), nullptr);
    x.value_length = r.value_length;
    rules_.push_back(std::move(x));
  }
}

std::size_t AssignmentFinder::KeyStart(const Rule& r, std::string_view text,
                                       std::size_t sign) const {
  const auto* t = reinterpret_cast<const unsigned char*>(text.data());
  constexpr auto npos = std::string_view::npos;
  char lower[2 * (kMaxNameGap + kMaxKeyword)];
  auto lowered = [&](std::size_t from, std::size_t to) {
    for (std::size_t i = from; i < to; ++i) lower[i - from] = AsciiLower(t[i]);
    return std::string_view(lower, to - from);
  };
  if (r.qualifiers.empty()) {
    // Blanks, a quote maybe, then the key's name, which must hold a keyword
    // ending at most 20 name bytes before the name ends.
    std::size_t k = sign;
    while (k > 0 && IsBlank(t[k - 1])) --k;
    if (k > 0 && IsQuote(t[k - 1])) --k;
    std::size_t b = k;
    while (b > 0 && k - b < kMaxNameGap + r.longest && IsName(t[b - 1])) --b;
    const std::string_view name = lowered(b, k);
    std::size_t from = npos;
    for (const auto& kw : r.keywords) {
      if (kw.size() > name.size()) continue;
      const std::size_t first =
          name.size() > kMaxNameGap + kw.size() ? name.size() - kMaxNameGap - kw.size() : 0;
      const std::size_t at = name.find(kw, first);
      if (at != npos) from = std::min(from, at);
    }
    return from == npos ? npos : b + from;
  }
  // Qualified: Q, up to 20 bytes, K, up to 20 bytes, the sign; one line.
  std::size_t b = sign;
  while (b > 0 && sign - b < 2 * (kMaxNameGap + kMaxKeyword) && t[b - 1] != '\n') --b;
  const std::string_view line = lowered(b, sign);
  std::size_t from = npos;
  for (const auto& kw : r.keywords) {
    if (kw.size() > line.size()) continue;
    const std::size_t last = line.size() - kw.size();  // K's start, latest
    for (std::size_t at = line.find(kw, last > kMaxNameGap ? last - kMaxNameGap : 0);
         at != npos && at <= last; at = line.find(kw, at + 1)) {
      for (const auto& q : r.qualifiers) {
        if (q.size() > at) continue;
        const std::size_t q_last = at - q.size();
        const std::size_t q_at = line.find(q, q_last > kMaxNameGap ? q_last - kMaxNameGap : 0);
        if (q_at != npos && q_at <= q_last) from = std::min(from, q_at);
      }
    }
  }
  return from == npos ? npos : b + from;
}

bool AssignmentFinder::Supported(Pass pass) {
#ifdef PS_ASSIGNMENTS_AVX2
  static const bool avx2 = __builtin_cpu_supports("avx2");
  static const bool avx512 =
      __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw");
  if (pass == Pass::kAvx2) return avx2;
  if (pass == Pass::kAvx512) return avx512;
#else
  if (pass == Pass::kAvx2 || pass == Pass::kAvx512) return false;
#endif
  return true;
}

void AssignmentFinder::Find(std::string_view text, std::vector<AssignmentMatch>* out,
                            std::size_t limit, Pass pass) const {
  if (rules_.empty() || text.size() < kMinValue + 2) return;
  // In slices, so that a text made of candidates holds few at a time.
  constexpr std::size_t kSlice = 64 * 1024;
  if (pass == Pass::kBest) {
    static const Pass best = Supported(Pass::kAvx512) ? Pass::kAvx512
                             : Supported(Pass::kAvx2) ? Pass::kAvx2
                                                      : Pass::kPortable;
    pass = best;
  } else if (!Supported(pass)) {
    pass = Pass::kPortable;
  }
  const auto* d = reinterpret_cast<const unsigned char*>(text.data());
  const std::size_t n = text.size();
  // Room for a slice made of signs.
  thread_local std::vector<std::uint32_t> signs(kSlice);
  // Per rule: signs before it are inside a value the rule reported.
  thread_local std::vector<std::size_t> resume;
  resume.assign(rules_.size(), 0);
  // The last value run measured: a sign inside it shares its end.
  std::size_t run_from = 0, run_to = 0;
  std::size_t found = 0;
  for (std::size_t begin = 0; begin < n; begin += kSlice) {
    const std::size_t end = std::min(n, begin + kSlice);
    std::size_t count = 0;
    switch (pass) {
#ifdef PS_ASSIGNMENTS_AVX2
      case Pass::kAvx512:
        count = CandidatesAvx512(d, n, begin, end, signs.data());
        break;
      case Pass::kAvx2:
        count = CandidatesAvx2(d, n, begin, end, signs.data());
        break;
#endif
      default:
        count = CandidatesPortable(d, n, begin, end, signs.data());
    }
    for (std::size_t c = 0; c < count; ++c) {
      const std::size_t s = begin + signs[c];
      // After the sign: at most six blanks, a quote maybe, 16 value bytes.
      std::size_t j = s + 1;
      std::size_t blanks = 0;
      while (j < n && IsBlank(d[j]) && blanks <= kMaxValueGap) ++j, ++blanks;
      if (blanks > kMaxValueGap) continue;
      if (j < n && IsQuote(d[j])) ++j;
      const std::size_t value_from = j;
      while (j < n && j - value_from < kMinValue && IsValue(d[j])) ++j;
      if (j - value_from < kMinValue) continue;
      for (std::size_t i = 0; i < rules_.size(); ++i) {
        if (s < resume[i]) continue;
        const Rule& r = rules_[i];
        const std::size_t from = KeyStart(r, text, s);
        if (from == std::string_view::npos) continue;
        if (value_from < run_from || value_from >= run_to) {
          run_from = value_from;
          run_to = j;
          while (run_to < n && IsValue(d[run_to])) ++run_to;
        }
        const std::size_t to = run_to;
        if (r.value_length != 0) {
          if (to - value_from != r.value_length) continue;
          if (!std::all_of(d + value_from, d + to, IsBase64)) continue;
        }
        out->push_back({i, from, value_from, to});
        resume[i] = to;
        if (++found >= limit) return;
      }
    }
  }
}

}  // namespace ps::security
