#include "core/config.h"

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstdlib>

#include <re2/re2.h>
#include <yaml-cpp/yaml.h>

#include <charconv>
#include <filesystem>
#include <functional>
#include <set>

#include "core/fs.h"
#include "core/ids.h"
#include "core/yaml.h"

extern char** environ;

namespace ps {

namespace {

constexpr std::size_t kMaxConfigBytes = 1 << 20;
constexpr int kMaxNesting = 64;

// A leaf setting: its dotted path, what it accepts, and how it is stored.
struct Setting {
  std::string path;
  std::string expects;  // for messages: "an integer from 1 to 64"
  std::function<bool(Config&, const std::string&)> set;
};

bool ParseInt(const std::string& s, int lo, int hi, int* out) {
  int v = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || p != s.data() + s.size() || v < lo || v > hi) return false;
  *out = v;
  return true;
}

bool ParseDurationIn(const std::string& s, Millis lo, Millis hi, Millis* out) {
  Millis v = ParseDuration(s);
  if (v < lo || v > hi) return false;
  *out = v;
  return true;
}

// A value that failed validation, for an error message: never whole (it may
// be a secret put in the wrong place, or a file's content through a link) —
// at most its first 4 characters, and no more than half of it; control
// characters escaped.
std::string Quote(const std::string& s) {
  const std::size_t shown = s.size() <= 4 ? s.size() : std::min<std::size_t>(4, s.size() / 2);
  std::string out = "'";
  for (std::size_t i = 0; i < shown; ++i) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (c < 0x20 || c == 0x7f || c >= 0x80) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\x%02x", c);
      out += buf;
    } else {
      out += static_cast<char>(c);
    }
  }
  if (shown < s.size()) return out + "…' (" + std::to_string(s.size()) + " characters)";
  return out + "'";
}

bool ParseBoolean(const std::string& s, bool* out) {
  if (s == "true" || s == "yes" || s == "on") {
    *out = true;
    return true;
  }
  if (s == "false" || s == "no" || s == "off") {
    *out = false;
    return true;
  }
  return false;
}

bool ParseRatio(const std::string& s, double lo, double hi, double* out) {
  char* end = nullptr;
  errno = 0;
  const double v = std::strtod(s.c_str(), &end);
  if (s.empty() || end != s.c_str() + s.size() || errno != 0 || !(v >= lo && v <= hi)) return false;
  *out = v;
  return true;
}

// "a, b,c" -> {"a", "b", "c"}; values are printable, without spaces inside.
bool ParseList(const std::string& s, std::vector<std::string>* out) {
  std::vector<std::string> items;
  std::size_t a = 0;
  while (a < s.size()) {
    auto e = s.find(',', a);
    if (e == std::string::npos) e = s.size();
    std::string item = s.substr(a, e - a);
    while (!item.empty() && item.front() == ' ') item.erase(0, 1);
    while (!item.empty() && item.back() == ' ') item.pop_back();
    if (item.empty() || item.size() > 200) return false;
    for (char ch : item) {
      if (static_cast<unsigned char>(ch) < 0x21 || ch == 0x7f) return false;
    }
    items.push_back(item);
    a = e + 1;
  }
  *out = std::move(items);
  return true;
}

// A list of RE2 expressions, each of which compiles (an invalid one would
// otherwise fail only when the gate runs, or never).
bool ParseRegexList(const std::string& s, std::vector<std::string>* out) {
  std::vector<std::string> items;
  if (!ParseList(s, &items)) return false;
  for (const auto& item : items) {
    RE2::Options o;
    o.set_log_errors(false);
    if (!RE2(item, o).ok()) return false;
  }
  *out = std::move(items);
  return true;
}

// Environment names: 1-32 lower-case letters, digits and '-'.
bool ParseEnvironments(const std::string& s, std::vector<std::string>* out) {
  std::vector<std::string> items;
  if (!ParseList(s, &items) || items.empty()) return false;
  for (const auto& item : items) {
    if (!IsEnvironmentName(item)) return false;
  }
  *out = std::move(items);
  return true;
}

// The server's settings; those not set are left out (an empty value is not a
// valid one, so the output reads back as it was).
Json ServerJson(const ServerConfig& s) {
  Json j = {{"listen", s.listen},
            {"rate_limit", {{"token", s.rate_token}, {"org", s.rate_org}}},
            {"heartbeat", FormatDuration(s.heartbeat)}};
  if (!s.repos_root.empty()) j["repos_root"] = s.repos_root;
  Json oidc = Json::object();
  if (!s.oidc_issuer.empty()) oidc["issuer"] = s.oidc_issuer;
  if (!s.oidc_audience.empty()) oidc["audience"] = s.oidc_audience;
  if (!s.oidc_jwks_url.empty()) oidc["jwks_url"] = s.oidc_jwks_url;
  if (!s.oidc_jwks_file.empty()) oidc["jwks_file"] = s.oidc_jwks_file;
  if (!s.oidc_client_id.empty()) oidc["client_id"] = s.oidc_client_id;
  if (!oidc.empty()) j["oidc"] = oidc;
  if (!s.cors_origins.empty()) j["cors_origins"] = s.cors_origins;
  return j;
}

bool SetUrl(const std::string& v, std::string* out) {
  if (v.size() > 2048 || (v.rfind("https://", 0) != 0 && v.rfind("http://", 0) != 0)) return false;
  for (char ch : v) {
    if (static_cast<unsigned char>(ch) < 0x21 || ch == 0x7f) return false;
  }
  *out = v;
  return true;
}

bool OneOf(const std::string& s, std::initializer_list<const char*> options, std::string* out) {
  for (const char* o : options) {
    if (s == o) {
      *out = s;
      return true;
    }
  }
  return false;
}

const std::vector<Setting>& Settings() {
  static const std::vector<Setting> kSettings = {
      {"version", "1",
       [](Config& c, const std::string& v) { return ParseInt(v, 1, 1, &c.version); }},
      {"project.name", "a name of 1 to 100 characters",
       [](Config& c, const std::string& v) {
         if (v.empty() || v.size() > 100) return false;
         c.project_name = v;
         return true;
       }},
      {"project.branch", "a branch name",
       [](Config& c, const std::string& v) {
         if (v.empty() || v.size() > 255) return false;
         c.project_branch = v;
         return true;
       }},
      {"environments", "environment names (1-32 lower-case letters, digits and '-'), a list",
       [](Config& c, const std::string& v) { return ParseEnvironments(v, &c.environments); }},
      {"state.dir", "a folder path",
       [](Config& c, const std::string& v) {
         if (v.empty()) return false;
         c.state_dir = v;
         return true;
       }},
      {"server.listen", "HOST:PORT (e.g. 127.0.0.1:7070)",
       [](Config& c, const std::string& v) {
         const auto colon = v.rfind(':');
         int port = 0;
         if (colon == std::string::npos || colon == 0 ||
             !ParseInt(v.substr(colon + 1), 0, 65535, &port)) {
           return false;
         }
         c.server.listen = v;
         return true;
       }},
      {"server.repos_root", "an absolute folder path",
       [](Config& c, const std::string& v) {
         if (v.empty() || v.front() != '/') return false;
         c.server.repos_root = v;
         return true;
       }},
      {"server.oidc.issuer", "an https:// or http:// URL",
       [](Config& c, const std::string& v) { return SetUrl(v, &c.server.oidc_issuer); }},
      {"server.oidc.audience", "a string",
       [](Config& c, const std::string& v) {
         if (v.empty() || v.size() > 512) return false;
         c.server.oidc_audience = v;
         return true;
       }},
      {"server.oidc.jwks_url", "an https:// or http:// URL",
       [](Config& c, const std::string& v) { return SetUrl(v, &c.server.oidc_jwks_url); }},
      {"server.oidc.client_id", "a string",
       [](Config& c, const std::string& v) {
         if (v.empty() || v.size() > 512) return false;
         c.server.oidc_client_id = v;
         return true;
       }},
      {"server.oidc.jwks_file", "a file path",
       [](Config& c, const std::string& v) {
         if (v.empty()) return false;
         c.server.oidc_jwks_file = v;
         return true;
       }},
      {"server.cors_origins", "origins (scheme://host[:port]), a list",
       [](Config& c, const std::string& v) {
         std::vector<std::string> items;
         if (!ParseList(v, &items)) return false;
         for (const auto& o : items) {
           if (o.rfind("http://", 0) != 0 && o.rfind("https://", 0) != 0) return false;
           if (o.find('/', o.find("//") + 2) != std::string::npos) return false;
         }
         c.server.cors_origins = std::move(items);
         return true;
       }},
      {"server.rate_limit.token", "requests per second, an integer from 1 to 100000",
       [](Config& c, const std::string& v) {
         return ParseInt(v, 1, 100'000, &c.server.rate_token);
       }},
      {"server.rate_limit.org", "requests per second, an integer from 1 to 1000000",
       [](Config& c, const std::string& v) {
         return ParseInt(v, 1, 1'000'000, &c.server.rate_org);
       }},
      {"server.heartbeat", "a duration from 1s to 5m (e.g. 15s)",
       [](Config& c, const std::string& v) {
         return ParseDurationIn(v, 1'000, 300'000, &c.server.heartbeat);
       }},
      {"log.format", "logfmt or json",
       [](Config& c, const std::string& v) { return ParseLogFormat(v, &c.log_format); }},
      {"log.level", "debug, info, warn, error or off",
       [](Config& c, const std::string& v) { return ParseLogLevel(v, &c.log_level); }},
      {"engine.workers", "an integer from 1 to 64",
       [](Config& c, const std::string& v) { return ParseInt(v, 1, 64, &c.engine.workers); }},
      {"engine.lease_ttl", "a duration from 100ms to 1h (e.g. 15s)",
       [](Config& c, const std::string& v) {
         return ParseDurationIn(v, 100, 3'600'000, &c.engine.lease_ttl);
       }},
      {"engine.heartbeat", "a duration from 10ms to 20m (e.g. 3s)",
       [](Config& c, const std::string& v) {
         return ParseDurationIn(v, 10, 1'200'000, &c.engine.heartbeat);
       }},
      {"engine.max_attempts", "an integer from 1 to 100",
       [](Config& c, const std::string& v) { return ParseInt(v, 1, 100, &c.engine.max_attempts); }},
      {"engine.backoff.base", "a duration from 0ms to 1h",
       [](Config& c, const std::string& v) {
         return ParseDurationIn(v, 0, 3'600'000, &c.engine.backoff_base);
       }},
      {"engine.backoff.cap", "a duration from 0ms to 24h",
       [](Config& c, const std::string& v) {
         return ParseDurationIn(v, 0, 86'400'000, &c.engine.backoff_cap);
       }},
      {"engine.stage_timeout", "a duration from 1s to 7d",
       [](Config& c, const std::string& v) {
         return ParseDurationIn(v, 1000, 7 * 86'400'000LL, &c.engine.stage_timeout);
       }},
      {"release.strategy", "canary or bluegreen",
       [](Config& c, const std::string& v) {
         return OneOf(v, {"canary", "bluegreen"}, &c.release.strategy);
       }},
      {"release.analysis.alpha", "a probability from 0.0001 to 0.2 (e.g. 0.01)",
       [](Config& c, const std::string& v) {
         return ParseRatio(v, 0.0001, 0.2, &c.release.alpha);
       }},
      {"release.analysis.min_requests", "an integer from 1 to 1000000",
       [](Config& c, const std::string& v) {
         return ParseInt(v, 1, 1'000'000, &c.release.min_requests);
       }},
      {"release.analysis.max_error_rate", "a ratio from 0.0001 to 0.5 (e.g. 0.01)",
       [](Config& c, const std::string& v) {
         return ParseRatio(v, 0.0001, 0.5, &c.release.max_error_rate);
       }},
      {"release.analysis.max_duration", "a duration from 1s to 1d",
       [](Config& c, const std::string& v) {
         return ParseDurationIn(v, 1000, 86'400'000, &c.release.max_duration);
       }},
      {"release.traffic.rate", "requests per second from 0 (none) to 100000",
       [](Config& c, const std::string& v) {
         return ParseRatio(v, 0, 100'000, &c.release.traffic_rate);
       }},
      {"release.traffic.connections", "an integer from 1 to 1000",
       [](Config& c, const std::string& v) {
         return ParseInt(v, 1, 1000, &c.release.traffic_connections);
       }},
      {"release.traffic.paths",
       "URL paths, a list or separated by commas (e.g. /api/items,/healthz)",
       [](Config& c, const std::string& v) {
         c.release.traffic_paths.clear();
         if (v.empty()) return true;  // [] : the default paths
         std::size_t a = 0;
         while (a <= v.size()) {
           auto e = v.find(',', a);
           if (e == std::string::npos) e = v.size();
           std::string p = v.substr(a, e - a);
           while (!p.empty() && p.front() == ' ') p.erase(0, 1);
           while (!p.empty() && p.back() == ' ') p.pop_back();
           if (p.empty() || p[0] != '/' || p.find_first_of(" \r\n") != std::string::npos)
             return false;
           c.release.traffic_paths.push_back(p);
           a = e + 1;
         }
         return true;
       }},
      {"release.steps", "a list of steps: setWeight: N, pause: {duration: D} or {}, analysis: {}",
       [](Config&, const std::string&) { return false; }},
      {"release.analysis.metrics",
       "a list of limits: {name: error-rate, max: 0.05} or {name: latency, quantile: 0.99, max: "
       "500ms}",
       [](Config&, const std::string&) { return false; }},
      {"deploy.instances", "an integer from 1 to 16",
       [](Config& c, const std::string& v) { return ParseInt(v, 1, 16, &c.release.instances); }},
      {"deploy.health_timeout", "a duration from 1s to 30m",
       [](Config& c, const std::string& v) {
         return ParseDurationIn(v, 1000, 1'800'000, &c.release.health_timeout);
       }},
      {"engine.poll", "a duration from 1ms to 10s",
       [](Config& c, const std::string& v) {
         return ParseDurationIn(v, 1, 10'000, &c.engine.poll);
       }},
      {"policy.tests.required", "true or false",
       [](Config& c, const std::string& v) { return ParseBoolean(v, &c.policy.tests_required); }},
      {"policy.tests.max_failures", "an integer from 0 to 100000",
       [](Config& c, const std::string& v) {
         return ParseInt(v, 0, 100'000, &c.policy.tests_max_failures);
       }},
      {"policy.tests.coverage_min", "a percentage from 0 to 100",
       [](Config& c, const std::string& v) {
         return ParseInt(v, 0, 100, &c.policy.tests_coverage_min);
       }},
      {"policy.security.max_severity", "low, medium, high or critical",
       [](Config& c, const std::string& v) {
         return OneOf(v, {"low", "medium", "high", "critical"}, &c.policy.security_max_severity);
       }},
      {"policy.security.secrets", "block or warn",
       [](Config& c, const std::string& v) {
         return OneOf(v, {"block", "warn"}, &c.policy.security_secrets);
       }},
      {"policy.security.unverified_secrets", "block or warn",
       [](Config& c, const std::string& v) {
         return OneOf(v, {"block", "warn"}, &c.policy.security_unverified_secrets);
       }},
      {"policy.security.unscanned", "block or warn",
       [](Config& c, const std::string& v) {
         return OneOf(v, {"block", "warn"}, &c.policy.security_unscanned);
       }},
      {"policy.security.dev_dependencies", "block or report",
       [](Config& c, const std::string& v) {
         return OneOf(v, {"block", "report"}, &c.policy.security_dev_dependencies);
       }},
      {"policy.security.licenses.allow",
       "SPDX license ids (a list, or separated by commas; 'GPL-*' matches a family)",
       [](Config& c, const std::string& v) {
         return ParseList(v, &c.policy.security_licenses_allow);
       }},
      {"policy.security.licenses.deny",
       "SPDX license ids (a list, or separated by commas; 'GPL-*' matches a family)",
       [](Config& c, const std::string& v) {
         return ParseList(v, &c.policy.security_licenses_deny);
       }},
      {"policy.security.allowlist.paths",
       "regular expressions (RE2) of file paths where secrets are not reported, a list",
       [](Config& c, const std::string& v) {
         return ParseRegexList(v, &c.policy.security_allow_paths);
       }},
      {"policy.security.allowlist.regexes",
       "regular expressions (RE2) of values that are not secrets, a list",
       [](Config& c, const std::string& v) {
         return ParseRegexList(v, &c.policy.security_allow_regexes);
       }},
      {"policy.security.allowlist.stopwords",
       "words that make a value not a secret when it holds one, a list",
       [](Config& c, const std::string& v) {
         return ParseList(v, &c.policy.security_allow_stopwords);
       }},
      {"policy.security.ignore",
       "finding ids to accept (advisory ids, rule ids such as DF002, secret fingerprints), a list",
       [](Config& c, const std::string& v) { return ParseList(v, &c.policy.security_ignore); }},
      {"policy.performance.p95_ms", "milliseconds from 0 (no budget) to 600000",
       [](Config& c, const std::string& v) {
         return ParseInt(v, 0, 600'000, &c.policy.perf_p95_ms);
       }},
      {"policy.performance.p99_ms", "milliseconds from 0 (no budget) to 600000",
       [](Config& c, const std::string& v) {
         return ParseInt(v, 0, 600'000, &c.policy.perf_p99_ms);
       }},
      {"policy.performance.max_regression_pct", "a percentage from 0 to 1000",
       [](Config& c, const std::string& v) {
         return ParseInt(v, 0, 1000, &c.policy.perf_max_regression_pct);
       }},
      {"policy.performance.rate", "requests per second from 1 to 100000",
       [](Config& c, const std::string& v) {
         return ParseInt(v, 1, 100'000, &c.policy.perf_rate);
       }},
      {"policy.performance.duration", "a duration from 1s to 10m",
       [](Config& c, const std::string& v) {
         return ParseDurationIn(v, 1000, 600'000, &c.policy.perf_duration);
       }},
      {"policy.release.error_budget", "a ratio from 0 to 1 (e.g. 0.001)",
       [](Config& c, const std::string& v) {
         return ParseRatio(v, 0, 1, &c.policy.release_error_budget);
       }},
      {"policy.release.max_error_ratio_increase", "a ratio from 0 to 1 (e.g. 0.01)",
       [](Config& c, const std::string& v) {
         return ParseRatio(v, 0, 1, &c.policy.release_max_error_ratio_increase);
       }},
  };
  return kSettings;
}

const Setting* FindSetting(const std::string& path) {
  for (const auto& s : Settings()) {
    if (s.path == path) return &s;
  }
  return nullptr;
}

// The keys a mapping at `prefix` may hold (from the settings table).
std::set<std::string> ChildKeys(const std::string& prefix) {
  std::set<std::string> keys;
  for (const auto& s : Settings()) {
    if (!prefix.empty() && s.path.rfind(prefix + ".", 0) != 0) continue;
    std::string rest = prefix.empty() ? s.path : s.path.substr(prefix.size() + 1);
    keys.insert(rest.substr(0, rest.find('.')));
  }
  if (prefix == "engine") keys.insert("stages");
  return keys;
}

// Levenshtein distance, for "did you mean".
std::size_t Distance(const std::string& a, const std::string& b) {
  std::vector<std::size_t> prev(b.size() + 1), cur(b.size() + 1);
  for (std::size_t j = 0; j <= b.size(); ++j) prev[j] = j;
  for (std::size_t i = 1; i <= a.size(); ++i) {
    cur[0] = i;
    for (std::size_t j = 1; j <= b.size(); ++j) {
      cur[j] = std::min({prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (a[i - 1] != b[j - 1])});
    }
    std::swap(prev, cur);
  }
  return prev[b.size()];
}

std::string Suggest(const std::string& key, const std::set<std::string>& known) {
  std::string best;
  std::size_t best_d = 3;
  for (const auto& k : known) {
    auto d = Distance(key, k);
    if (d < best_d) {
      best_d = d;
      best = k;
    }
  }
  if (!best.empty()) return " (did you mean '" + best + "'?)";
  std::string list;
  for (const auto& k : known) list += (list.empty() ? "" : ", ") + k;
  return " (known keys: " + list + ")";
}

class Walker {
 public:
  Walker(Config& c, std::string file) : c_(c), file_(std::move(file)) {}

  void Error(const YAML::Mark& m, const std::string& key, const std::string& msg) {
    ConfigError e;
    e.file = file_;
    e.line = m.is_null() ? 0 : m.line + 1;
    e.column = m.is_null() ? 0 : m.column + 1;
    e.key = key;
    e.message = msg;
    errors_.push_back(std::move(e));
  }

  std::string Where(const YAML::Mark& m) const { return file_ + ":" + std::to_string(m.line + 1); }

  void Map(const YAML::Node& node, const std::string& prefix, int depth) {
    if (depth > kMaxNesting) {
      Error(node.Mark(), prefix, "nested too deeply");
      return;
    }
    if (!node.IsMap()) {
      Error(node.Mark(), prefix.empty() ? "(document)" : prefix,
            "expected a mapping of keys to values");
      return;
    }
    const auto known = ChildKeys(prefix);
    std::set<std::string> seen;
    for (auto it = node.begin(); it != node.end(); ++it) {
      const YAML::Node k = it->first;
      const YAML::Node v = it->second;
      if (!k.IsScalar()) {
        Error(k.Mark(), prefix, "keys must be plain strings");
        continue;
      }
      const std::string& key = k.Scalar();
      const std::string path = prefix.empty() ? key : prefix + "." + key;
      if (!seen.insert(key).second) {
        Error(k.Mark(), path, "duplicate key");
        continue;
      }
      if (known.count(key) == 0) {
        Error(k.Mark(), path, "unknown key" + Suggest(key, known));
        continue;
      }
      if (path == "engine.stages") {
        Stages(v, depth + 1);
      } else if (path == "release.steps") {
        Steps(v);
      } else if (path == "release.analysis.metrics") {
        Metrics(v);
      } else if (const Setting* s = FindSetting(path)) {
        Leaf(*s, v);
      } else {
        Map(v, path, depth + 1);
      }
    }
  }

  void Leaf(const Setting& s, const YAML::Node& node) {
    YAML::Node v = node;
    if (node.IsSequence() && s.expects.find("a list") != std::string::npos) {
      // A list of plain values is the same as the values separated by commas.
      std::string joined;
      for (const auto& item : node) {
        if (!item.IsScalar() || item.Scalar().find(',') != std::string::npos) {
          Error(item.Mark(), s.path, "expected " + s.expects);
          return;
        }
        joined += (joined.empty() ? "" : ",") + item.Scalar();
      }
      c_.origin[s.path] = Where(node.Mark());
      if (!s.set(c_, joined)) Error(node.Mark(), s.path, "expected " + s.expects);
      return;
    }
    if (!v.IsScalar()) {
      Error(v.Mark(), s.path, "expected " + s.expects);
      return;
    }
    if (!s.set(c_, v.Scalar())) {
      Error(v.Mark(), s.path, "expected " + s.expects + ", got " + Quote(v.Scalar()));
      return;
    }
    c_.origin[s.path] = Where(v.Mark());
  }

  void Stages(const YAML::Node& node, int depth) {
    if (!node.IsMap()) {
      Error(node.Mark(), "engine.stages", "expected a mapping of stage names to settings");
      return;
    }
    for (auto it = node.begin(); it != node.end(); ++it) {
      if (!it->first.IsScalar()) {
        Error(it->first.Mark(), "engine.stages", "stage names must be plain strings");
        continue;
      }
      const std::string name = it->first.Scalar();
      const std::string path = "engine.stages." + name;
      if (name.empty() || name.size() > 64 ||
          name.find_first_not_of("abcdefghijklmnopqrstuvwxyz0123456789_-") != std::string::npos) {
        Error(it->first.Mark(), path, "stage names are lower-case letters, digits, '-' and '_'");
        continue;
      }
      const YAML::Node v = it->second;
      if (!v.IsMap() || depth > kMaxNesting) {
        Error(v.Mark(), path, "expected a mapping with timeout and/or max_attempts");
        continue;
      }
      StageOverride o;
      for (auto jt = v.begin(); jt != v.end(); ++jt) {
        const std::string key = jt->first.IsScalar() ? jt->first.Scalar() : "";
        const YAML::Node val = jt->second;
        if (key == "timeout") {
          Millis ms = val.IsScalar() ? ParseDuration(val.Scalar()) : -1;
          if (ms < 1000 || ms > 7 * 86'400'000LL) {
            Error(val.Mark(), path + ".timeout", "expected a duration from 1s to 7d");
          } else {
            o.timeout = ms;
          }
        } else if (key == "max_attempts") {
          int n = 0;
          if (!val.IsScalar() || !ParseInt(val.Scalar(), 1, 100, &n)) {
            Error(val.Mark(), path + ".max_attempts", "expected an integer from 1 to 100");
          } else {
            o.max_attempts = n;
          }
        } else {
          Error(jt->first.Mark(), path + "." + key,
                "unknown key" + Suggest(key, {"timeout", "max_attempts"}));
        }
      }
      c_.engine.stages[name] = o;
      c_.origin[path] = Where(it->first.Mark());
    }
  }

  // release.steps: a list of one-key mappings.
  void Steps(const YAML::Node& node) {
    const std::string path = "release.steps";
    if (!node.IsSequence()) {
      Error(node.Mark(), path, "expected a list of steps (- setWeight: 10)");
      return;
    }
    std::vector<ReleaseStep> steps;
    int i = 0;
    for (const auto& item : node) {
      const std::string at = path + "[" + std::to_string(i++) + "]";
      if (!item.IsMap() || item.size() != 1) {
        Error(item.Mark(), at, "a step is one of setWeight: N, pause: {...}, analysis: {}");
        continue;
      }
      const std::string key = item.begin()->first.IsScalar() ? item.begin()->first.Scalar() : "";
      const YAML::Node v = item.begin()->second;
      ReleaseStep st;
      st.kind = key;
      if (key == "setWeight") {
        if (!v.IsScalar() || !ParseInt(v.Scalar(), 0, 100, &st.weight)) {
          Error(v.Mark(), at + ".setWeight", "expected a percentage from 0 to 100");
          continue;
        }
      } else if (key == "pause") {
        if (!(v.IsMap() || v.IsNull())) {
          Error(v.Mark(), at + ".pause", "expected {duration: 30s} or {} (until promoted)");
          continue;
        }
        if (v.IsMap()) {
          bool bad = false;
          for (auto jt = v.begin(); jt != v.end(); ++jt) {
            const std::string k = jt->first.IsScalar() ? jt->first.Scalar() : "";
            if (k != "duration") {
              Error(jt->first.Mark(), at + ".pause." + k, "unknown key" + Suggest(k, {"duration"}));
              bad = true;
            } else if (!jt->second.IsScalar() ||
                       !ParseDurationIn(jt->second.Scalar(), 0, 86'400'000, &st.duration)) {
              Error(jt->second.Mark(), at + ".pause.duration", "expected a duration up to 1d");
              bad = true;
            }
          }
          if (bad) continue;
        }
      } else if (key == "analysis") {
        if (!(v.IsMap() || v.IsNull()) || (v.IsMap() && v.size() != 0)) {
          Error(v.Mark(), at + ".analysis",
                "expected {} (the analysis is set under release.analysis)");
          continue;
        }
      } else {
        Error(item.begin()->first.Mark(), at,
              "unknown step" + Suggest(key, {"setWeight", "pause", "analysis"}));
        continue;
      }
      steps.push_back(st);
    }
    if (steps.size() > 100) Error(node.Mark(), path, "more than 100 steps");
    c_.release.steps = std::move(steps);
    c_.origin[path] = Where(node.Mark());
  }

  // release.analysis.metrics: a list of {name, max[, quantile]}.
  void Metrics(const YAML::Node& node) {
    const std::string path = "release.analysis.metrics";
    if (!node.IsSequence()) {
      Error(node.Mark(), path, "expected a list ({name: error-rate, max: 0.05})");
      return;
    }
    std::vector<ReleaseMetric> out;
    int i = 0;
    for (const auto& item : node) {
      const std::string at = path + "[" + std::to_string(i++) + "]";
      if (!item.IsMap()) {
        Error(item.Mark(), at, "expected {name: error-rate, max: 0.05}");
        continue;
      }
      ReleaseMetric m;
      bool bad = false, has_max = false;
      std::string max_text;
      YAML::Mark max_mark;
      for (auto it = item.begin(); it != item.end(); ++it) {
        const std::string k = it->first.IsScalar() ? it->first.Scalar() : "";
        const YAML::Node v = it->second;
        if (!v.IsScalar()) {
          Error(v.Mark(), at + "." + k, "expected a value");
          bad = true;
        } else if (k == "name") {
          m.name = v.Scalar();
        } else if (k == "max") {
          has_max = true;
          max_text = v.Scalar();
          max_mark = v.Mark();
        } else if (k == "quantile") {
          if (!ParseRatio(v.Scalar(), 0.5, 0.9999, &m.quantile)) {
            Error(v.Mark(), at + ".quantile", "expected a quantile from 0.5 to 0.9999");
            bad = true;
          }
        } else {
          Error(it->first.Mark(), at + "." + k,
                "unknown key" + Suggest(k, {"name", "max", "quantile"}));
          bad = true;
        }
      }
      if (bad) continue;
      if (m.name != "error-rate" && m.name != "latency") {
        Error(item.Mark(), at + ".name", "expected error-rate or latency, got " + Quote(m.name));
        continue;
      }
      if (!has_max) {
        Error(item.Mark(), at, "needs max (the limit)");
        continue;
      }
      if (m.name == "error-rate" ? !ParseRatio(max_text, 0.0001, 0.5, &m.max)
                                 : !ParseDurationIn(max_text, 1, 600'000, &m.max_ms)) {
        Error(max_mark, at + ".max",
              m.name == "error-rate" ? "expected a ratio from 0.0001 to 0.5"
                                     : "expected a duration from 1ms to 10m");
        continue;
      }
      out.push_back(m);
    }
    if (out.size() > 16) Error(node.Mark(), path, "more than 16 metrics");
    c_.release.metrics = std::move(out);
    c_.origin[path] = Where(node.Mark());
  }

  std::vector<ConfigError> errors_;

 private:
  Config& c_;
  std::string file_;
};

Problem ErrorsToProblem(const std::vector<ConfigError>& errors) {
  std::string detail;
  Json list = Json::array();
  for (const auto& e : errors) {
    detail += (detail.empty() ? "" : "\n") + e.ToString();
    list.push_back({{"file", e.file},
                    {"line", e.line},
                    {"column", e.column},
                    {"key", e.key},
                    {"message", e.message}});
  }
  return problems::InvalidConfig(detail).With("errors", list);
}

}  // namespace

std::string ConfigError::ToString() const {
  std::string where = file;
  if (line > 0) where += ":" + std::to_string(line) + ":" + std::to_string(column);
  return where + ": " + (key.empty() ? "" : key + ": ") + message;
}

Json PolicyConfig::ToJson() const {
  return {{"tests",
           {{"required", tests_required},
            {"max_failures", tests_max_failures},
            {"coverage_min", tests_coverage_min}}},
          {"security",
           {{"max_severity", security_max_severity},
            {"secrets", security_secrets},
            {"unverified_secrets", security_unverified_secrets},
            {"unscanned", security_unscanned},
            {"dev_dependencies", security_dev_dependencies},
            {"licenses", {{"allow", security_licenses_allow}, {"deny", security_licenses_deny}}},
            {"ignore", security_ignore},
            {"allowlist",
             {{"paths", security_allow_paths},
              {"regexes", security_allow_regexes},
              {"stopwords", security_allow_stopwords}}}}},
          {"performance",
           {{"p95_ms", perf_p95_ms},
            {"p99_ms", perf_p99_ms},
            {"max_regression_pct", perf_max_regression_pct},
            {"rate", perf_rate},
            {"duration", FormatDuration(perf_duration)}}},
          {"release",
           {{"error_budget", release_error_budget},
            {"max_error_ratio_increase", release_max_error_ratio_increase}}}};
}

std::vector<ReleaseStep> ReleaseConfig::EffectiveSteps() const {
  if (!steps.empty()) return steps;
  return {{"setWeight", 10, -1}, {"analysis", 0, -1}, {"setWeight", 50, -1}, {"analysis", 0, -1}};
}

Json ReleaseConfig::ToJson() const {
  Json st = Json::array();
  for (const auto& s : EffectiveSteps()) {
    if (s.kind == "setWeight") {
      st.push_back({{"setWeight", s.weight}});
    } else if (s.kind == "pause") {
      st.push_back({{"pause", s.duration >= 0 ? Json{{"duration", FormatDuration(s.duration)}}
                                              : Json::object()}});
    } else {
      st.push_back({{"analysis", Json::object()}});
    }
  }
  return {
      {"strategy", strategy},
      {"steps", st},
      {"analysis",
       {{"alpha", alpha},
        {"min_requests", min_requests},
        {"max_error_rate", max_error_rate},
        {"max_duration", FormatDuration(max_duration)},
        {"metrics",
         [&] {
           Json a = Json::array();
           for (const auto& m : metrics) {
             if (m.name == "latency") {
               a.push_back(
                   {{"name", m.name}, {"quantile", m.quantile}, {"max", FormatDuration(m.max_ms)}});
             } else {
               a.push_back({{"name", m.name}, {"max", m.max}});
             }
           }
           return a;
         }()}}},
      {"traffic",
       {{"rate", traffic_rate}, {"connections", traffic_connections}, {"paths", traffic_paths}}}};
}

Json Config::ToJson() const {
  Json stages = Json::object();
  for (const auto& [name, o] : engine.stages) {
    Json s = Json::object();
    if (o.timeout) s["timeout"] = FormatDuration(*o.timeout);
    if (o.max_attempts) s["max_attempts"] = *o.max_attempts;
    stages[name] = s;
  }
  return Json{
      {"version", version},
      {"project", {{"name", project_name}, {"branch", project_branch}}},
      {"environments", environments},
      {"state", {{"dir", state_dir}}},
      {"log",
       {{"format", log_format == LogFormat::kJson ? "json" : "logfmt"},
        {"level",
         std::array{"debug", "info", "warn", "error", "off"}[static_cast<int>(log_level)]}}},
      {"engine",
       {{"workers", engine.workers},
        {"lease_ttl", FormatDuration(engine.lease_ttl)},
        {"heartbeat", FormatDuration(engine.heartbeat)},
        {"max_attempts", engine.max_attempts},
        {"backoff",
         {{"base", FormatDuration(engine.backoff_base)},
          {"cap", FormatDuration(engine.backoff_cap)}}},
        {"stage_timeout", FormatDuration(engine.stage_timeout)},
        {"poll", FormatDuration(engine.poll)},
        {"stages", stages}}},
      {"policy", policy.ToJson()},
      {"release", release.ToJson()},
      {"server", ServerJson(server)},
      {"deploy",
       {{"instances", release.instances},
        {"health_timeout", FormatDuration(release.health_timeout)}}},
  };
}

Result<Config> ParseConfig(std::string_view text, const std::string& file) {
  Config c;
  c.file = file;
  if (text.size() > kMaxConfigBytes) {
    return ErrorsToProblem({{file, 0, 0, "", "file is larger than 1 MiB"}});
  }
  if (!YamlNestingWithinLimit(text, kMaxNesting)) {
    return ErrorsToProblem({{file, 0, 0, "", "nested too deeply to be a configuration"}});
  }
  YAML::Node root;
  try {
    root = YAML::Load(std::string(text));
  } catch (const YAML::Exception& e) {
    ConfigError err{file, e.mark.is_null() ? 0 : e.mark.line + 1,
                    e.mark.is_null() ? 0 : e.mark.column + 1, "", "not valid YAML: " + e.msg};
    return ErrorsToProblem({err});
  }
  if (root.IsNull()) return c;  // an empty file is the defaults
  Walker w(c, file);
  try {
    w.Map(root, "", 0);
  } catch (const YAML::Exception& e) {
    w.Error(e.mark, "", std::string("not valid YAML: ") + e.what());
  }
  if (c.engine.heartbeat * 2 > c.engine.lease_ttl && w.errors_.empty()) {
    w.Error(YAML::Mark::null_mark(), "engine.heartbeat",
            "must be at most half of engine.lease_ttl, or a healthy stage loses its lease");
  }
  if (c.engine.backoff_base > c.engine.backoff_cap && w.errors_.empty()) {
    w.Error(YAML::Mark::null_mark(), "engine.backoff.base", "must not exceed engine.backoff.cap");
  }
  if (!w.errors_.empty()) return ErrorsToProblem(w.errors_);
  return c;
}

Status ApplyEnvOverrides(Config& c, const std::map<std::string, std::string>& env) {
  std::vector<ConfigError> errors;
  for (const auto& s : Settings()) {
    std::string name = "PRODSPRINT_";
    for (char ch : s.path) name += ch == '.' ? '_' : static_cast<char>(std::toupper(ch));
    auto it = env.find(name);
    if (it == env.end()) continue;
    if (!s.set(c, it->second)) {
      errors.push_back(
          {"env " + name, 0, 0, s.path, "expected " + s.expects + ", got " + Quote(it->second)});
      continue;
    }
    c.origin[s.path] = "env " + name;
  }
  if (c.engine.heartbeat * 2 > c.engine.lease_ttl) {
    errors.push_back(
        {"environment", 0, 0, "engine.heartbeat", "must be at most half of engine.lease_ttl"});
  }
  if (!errors.empty()) return ErrorsToProblem(errors);
  return Ok();
}

std::map<std::string, std::string> ProcessEnv() {
  std::map<std::string, std::string> env;
  for (char** e = environ; e && *e; ++e) {
    std::string_view kv(*e);
    auto eq = kv.find('=');
    if (eq == std::string_view::npos) continue;
    env.emplace(std::string(kv.substr(0, eq)), std::string(kv.substr(eq + 1)));
  }
  return env;
}

Result<Config> LoadConfig(const std::string& path, bool found_in_repository) {
  Config c;
  std::error_code ec;
  if (!path.empty() && found_in_repository && std::filesystem::is_symlink(path, ec)) {
    return problems::InvalidConfig(path +
                                   " is a symbolic link: not followed (a repository's link may "
                                   "point anywhere; name the file with --config to use it)");
  }
  if (!path.empty() && std::filesystem::exists(path, ec)) {
    PS_ASSIGN(std::string text, ReadFile(path, kMaxConfigBytes));
    PS_ASSIGN(c, ParseConfig(text, path));
  }
  PS_TRY(ApplyEnvOverrides(c, ProcessEnv()));
  return c;
}

}  // namespace ps
