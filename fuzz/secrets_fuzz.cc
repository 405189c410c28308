// Any file of a repository reaches the secret scanner: whatever the bytes,
// it answers findings that point inside the file and hold no secret whole;
// the assignment finder's vector pass and portable loop find the same; two
// halves scanned as one batch find what each finds alone.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "security/secrets.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static auto scanner = ps::security::SecretScanner::Create(ps::security::BuiltinSecretRules());
  if (!scanner.ok()) __builtin_trap();
  std::string_view d(reinterpret_cast<const char*>(data), size);
  int lines = 1;
  for (char c : d) lines += c == '\n';
  for (const auto& f : (*scanner)->Scan("fuzz", d)) {
    if (f.line < 1 || f.line > lines || f.column < 1) __builtin_trap();
    if (f.fingerprint.size() != 64) __builtin_trap();
  }
  {
    const std::string first_path = "a", second_path = "b";
    const std::string_view a = d.substr(0, d.size() / 2), b = d.substr(d.size() / 2);
    const std::string text = std::string(a) + "\n" + std::string(b) + "\n";
    const auto batch = (*scanner)->ScanBatch(
        text, {{&first_path, 0, a.size()}, {&second_path, a.size() + 1, b.size()}});
    const std::vector<std::vector<ps::security::SecretFinding>> alone = {
        (*scanner)->Scan(first_path, a), (*scanner)->Scan(second_path, b)};
    if (batch.size() != 2) __builtin_trap();
    for (int i = 0; i < 2; ++i) {
      if (batch[i].size() != alone[i].size()) __builtin_trap();
      for (std::size_t k = 0; k < alone[i].size(); ++k) {
        const auto &x = batch[i][k], &y = alone[i][k];
        if (x.rule_id != y.rule_id || x.fingerprint != y.fingerprint || x.line != y.line ||
            x.column != y.column || x.file != y.file)
          __builtin_trap();
      }
    }
  }
  static const ps::security::AssignmentFinder finder = [] {
    std::vector<ps::security::AssignmentRule> rules;
    for (const auto& r : ps::security::BuiltinSecretRules())
      if (r.assignment) rules.push_back(*r.assignment);
    return ps::security::AssignmentFinder(rules);
  }();
  using Pass = ps::security::AssignmentFinder::Pass;
  std::vector<ps::security::AssignmentMatch> portable;
  finder.Find(d, &portable, 100000, Pass::kPortable);
  for (Pass p : {Pass::kAvx512, Pass::kAvx2}) {
    if (!ps::security::AssignmentFinder::Supported(p)) continue;
    std::vector<ps::security::AssignmentMatch> vec;
    finder.Find(d, &vec, 100000, p);
    if (vec.size() != portable.size()) __builtin_trap();
    for (std::size_t i = 0; i < vec.size(); ++i) {
      const auto &a = vec[i], &b = portable[i];
      if (a.rule != b.rule || a.from != b.from || a.value_from != b.value_from || a.to != b.to)
        __builtin_trap();
      if (!(a.from <= a.value_from && a.value_from <= a.to && a.to <= d.size())) __builtin_trap();
    }
  }
  return 0;
}
