// Importing a gitleaks configuration (.gitleaks.toml): rules and allowlists.
#include <hs.h>

#include "core/toml.h"
#include "security/secrets.h"

namespace ps::security {
namespace {

std::string Str(const toml::table& t, const char* key) {
  if (auto v = t.get_as<std::string>(key)) return v->get();
  return {};
}

std::vector<std::string> Strings(const toml::table& t, const char* key) {
  std::vector<std::string> out;
  if (auto arr = t.get_as<toml::array>(key)) {
    for (const auto& x : *arr) {
      if (auto s = x.value<std::string>()) out.push_back(*s);
    }
  }
  return out;
}

bool VectorscanAccepts(const std::string& re, unsigned flags, std::string* why) {
  hs_database_t* db = nullptr;
  hs_compile_error_t* err = nullptr;
  if (hs_compile(re.c_str(), flags, HS_MODE_BLOCK, nullptr, &db, &err) != HS_SUCCESS) {
    *why = err && err->message ? err->message : "does not compile";
    hs_free_compile_error(err);
    return false;
  }
  hs_free_database(db);
  return true;
}

SecretAllowlist AllowlistOf(const toml::table& t) {
  SecretAllowlist a;
  a.description = Str(t, "description");
  a.paths = Strings(t, "paths");
  a.regexes = Strings(t, "regexes");
  a.stopwords = Strings(t, "stopwords");
  a.commits = Strings(t, "commits");
  const std::string target = Str(t, "regexTarget");
  if (target == "match" || target == "line") a.target = target;
  std::string cond = Str(t, "condition");
  for (auto& ch : cond) ch = static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
  a.require_all = cond == "AND";
  return a;
}

// [allowlist] (a table) or [[allowlists]] (an array of them), as gitleaks
// writes them before and after 8.21.
void AllowlistsIn(const toml::table& t, const char* single, const char* many,
                  std::vector<SecretAllowlist>& out, const std::vector<std::string>& rules) {
  if (auto one = t.get_as<toml::table>(single)) {
    out.push_back(AllowlistOf(*one));
    out.back().rules = rules;
  }
  if (auto arr = t.get_as<toml::array>(many)) {
    for (const auto& x : *arr) {
      if (auto tt = x.as_table()) {
        out.push_back(AllowlistOf(*tt));
        out.back().rules = rules;
        for (const auto& r : Strings(*tt, "targetRules")) out.back().rules.push_back(r);
      }
    }
  }
}

}  // namespace

Result<ImportedSecretConfig> ImportGitleaksConfig(std::string_view text, const std::string& name) {
  std::string error;
  auto doc = ParseUntrustedToml(std::string(text), name, &error);
  if (!doc) return problems::InvalidInput(name + " is not valid TOML: " + error);
  ImportedSecretConfig out;
  if (auto ext = doc->get_as<toml::table>("extend")) {
    if (auto use = ext->get_as<bool>("useDefault")) out.extends_default = use->get();
    if (!Str(*ext, "path").empty() || !Str(*ext, "url").empty()) {
      out.warnings.push_back("[extend] path/url is not followed: import that file's rules too");
    }
  }
  AllowlistsIn(*doc, "allowlist", "allowlists", out.allowlists, {});
  if (auto rules = doc->get_as<toml::array>("rules")) {
    for (const auto& node : *rules) {
      auto t = node.as_table();
      if (!t) continue;
      SecretRule r;
      r.id = Str(*t, "id");
      if (r.id.empty()) {
        out.warnings.push_back("a rule without an id is left out");
        continue;
      }
      const std::string regex = Str(*t, "regex");
      r.path_regex = Str(*t, "path");
      if (regex.empty()) {
        out.warnings.push_back("rule " + r.id + ": path-only rules are not imported");
        continue;
      }
      r.title = Str(*t, "description").empty() ? r.id : Str(*t, "description");
      r.severity = "high";
      r.remediation =
          "Revoke the credential and remove it from the repository (rule imported from " + name +
          ").";
      r.value = SecretRule::Value::kRegexGroup;
      r.start_of_match = false;
      if (auto g = t->get_as<int64_t>("secretGroup")) r.secret_group = static_cast<int>(g->get());
      if (auto e = t->get_as<double>("entropy")) r.min_entropy = e->get();
      if (auto e = t->get_as<int64_t>("entropy")) r.min_entropy = static_cast<double>(e->get());
      r.keywords = Strings(*t, "keywords");
      bool caseless = false;
      r.pattern = regex;  // RE2 reads the original
      const std::string hs = PatternForVectorscan(regex, &caseless);
      const unsigned flags = caseless ? HS_FLAG_CASELESS : 0;
      std::string why;
      if (!VectorscanAccepts(hs, flags, &why)) {
        out.warnings.push_back("rule " + r.id + " is left out: vectorscan cannot compile it (" +
                               why + ")");
        continue;
      }
      AllowlistsIn(*t, "allowlist", "allowlists", out.allowlists, {r.id});
      out.rules.push_back(std::move(r));
    }
  }
  return out;
}

}  // namespace ps::security
