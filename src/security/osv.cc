#include "security/osv.h"

#include <algorithm>
#include <cmath>
#include <filesystem>

#include "core/fs.h"
#include "security/versions.h"
#include "security/zip.h"
#include "sqlite/db.h"

namespace ps::security {

namespace fs = std::filesystem;
using ps::sqlite::Db;
using ps::sqlite::SqliteError;

// --- CVSS --------------------------------------------------------------------

namespace {

std::map<std::string, std::string> CvssMetrics(std::string_view v) {
  std::map<std::string, std::string> m;
  std::size_t start = 0;
  while (start < v.size()) {
    auto slash = v.find('/', start);
    auto part =
        v.substr(start, slash == std::string_view::npos ? std::string_view::npos : slash - start);
    auto colon = part.find(':');
    if (colon == std::string_view::npos) return {};
    m[std::string(part.substr(0, colon))] = std::string(part.substr(colon + 1));
    if (slash == std::string_view::npos) break;
    start = slash + 1;
  }
  return m;
}

// CVSS 3.1's Roundup: the smallest number, to one decimal, >= x (computed on
// integers to avoid floating-point surprises).
double Roundup31(double x) {
  const long long i = std::llround(x * 100000);
  if (i % 10000 == 0) return static_cast<double>(i) / 100000.0;
  return (std::floor(static_cast<double>(i) / 10000.0) + 1) / 10.0;
}

std::optional<double> Cvss3(const std::map<std::string, std::string>& m, bool v31) {
  auto get = [&](const char* k) -> std::string {
    auto it = m.find(k);
    return it == m.end() ? "" : it->second;
  };
  const std::string av = get("AV"), ac = get("AC"), pr = get("PR"), ui = get("UI"), s = get("S"),
                    c = get("C"), i = get("I"), a = get("A");
  const std::map<std::string, double> kAv = {{"N", 0.85}, {"A", 0.62}, {"L", 0.55}, {"P", 0.2}};
  const std::map<std::string, double> kAc = {{"L", 0.77}, {"H", 0.44}};
  const std::map<std::string, double> kUi = {{"N", 0.85}, {"R", 0.62}};
  const std::map<std::string, double> kCia = {{"H", 0.56}, {"L", 0.22}, {"N", 0}};
  if (!kAv.count(av) || !kAc.count(ac) || !kUi.count(ui) || !kCia.count(c) || !kCia.count(i) ||
      !kCia.count(a) || (s != "U" && s != "C") || (pr != "N" && pr != "L" && pr != "H")) {
    return std::nullopt;
  }
  const bool changed = s == "C";
  const double prv = pr == "N"   ? 0.85
                     : pr == "L" ? (changed ? 0.68 : 0.62)
                                 : (changed ? 0.5 : 0.27);
  const double iss = 1 - (1 - kCia.at(c)) * (1 - kCia.at(i)) * (1 - kCia.at(a));
  const double impact =
      changed ? 7.52 * (iss - 0.029) - 3.25 * std::pow(iss - 0.02, 15) : 6.42 * iss;
  const double expl = 8.22 * kAv.at(av) * kAc.at(ac) * prv * kUi.at(ui);
  if (impact <= 0) return 0.0;
  auto up = [&](double x) { return v31 ? Roundup31(x) : std::ceil(x * 10 - 1e-9) / 10.0; };
  return changed ? up(std::min(1.08 * (impact + expl), 10.0)) : up(std::min(impact + expl, 10.0));
}

std::optional<double> Cvss2(const std::map<std::string, std::string>& m) {
  const std::map<std::string, double> kAv = {{"L", 0.395}, {"A", 0.646}, {"N", 1.0}};
  const std::map<std::string, double> kAc = {{"H", 0.35}, {"M", 0.61}, {"L", 0.71}};
  const std::map<std::string, double> kAu = {{"M", 0.45}, {"S", 0.56}, {"N", 0.704}};
  const std::map<std::string, double> kCia = {{"N", 0}, {"P", 0.275}, {"C", 0.660}};
  auto get = [&](const char* k) -> std::string {
    auto it = m.find(k);
    return it == m.end() ? "" : it->second;
  };
  if (!kAv.count(get("AV")) || !kAc.count(get("AC")) || !kAu.count(get("Au")) ||
      !kCia.count(get("C")) || !kCia.count(get("I")) || !kCia.count(get("A"))) {
    return std::nullopt;
  }
  const double impact =
      10.41 * (1 - (1 - kCia.at(get("C"))) * (1 - kCia.at(get("I"))) * (1 - kCia.at(get("A"))));
  const double expl = 20 * kAv.at(get("AV")) * kAc.at(get("AC")) * kAu.at(get("Au"));
  const double f = impact == 0 ? 0 : 1.176;
  return std::round(((0.6 * impact) + (0.4 * expl) - 1.5) * f * 10) / 10.0;
}

}  // namespace

std::optional<double> CvssBaseScore(std::string_view vector) {
  if (vector.rfind("CVSS:3.1/", 0) == 0 || vector.rfind("CVSS:3.0/", 0) == 0) {
    const auto m = CvssMetrics(vector.substr(9));
    if (m.empty()) return std::nullopt;
    return Cvss3(m, vector[7] == '1');
  }
  if (vector.rfind("CVSS:", 0) == 0) return std::nullopt;  // v4 and later: not scored here
  if (vector.rfind("(", 0) == 0) vector = vector.substr(1, vector.size() - 2);
  const auto m = CvssMetrics(vector);
  if (m.empty() || !m.count("Au")) return std::nullopt;
  return Cvss2(m);
}

std::string SeverityOfScore(double s) {
  if (s >= 9.0) return "critical";
  if (s >= 7.0) return "high";
  if (s >= 4.0) return "medium";
  if (s > 0) return "low";
  return "none";
}

int SeverityRank(std::string_view s) {
  if (s == "critical") return 4;
  if (s == "high") return 3;
  if (s == "medium" || s == "moderate") return 2;
  if (s == "low") return 1;
  return 0;
}

// --- records -----------------------------------------------------------------

namespace {

std::string JStr(const Json& j, const char* key) {
  auto it = j.find(key);
  return it != j.end() && it->is_string() ? it->get<std::string>() : std::string();
}

std::string Lower(std::string s) {
  for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

// "Debian:12" -> "Debian"; OSV's ecosystem may carry a release after ':'.
std::string BaseEcosystem(std::string_view e) { return std::string(e.substr(0, e.find(':'))); }

}  // namespace

std::string CanonicalPackageName(std::string_view ecosystem, std::string_view name) {
  if (ecosystem == "PyPI") return NormalizePythonName(name);
  if (ecosystem == "NuGet" || ecosystem == "Packagist") return Lower(std::string(name));
  return std::string(name);
}

Result<Advisory> ParseOsvRecord(const Json& r) {
  if (!r.is_object()) return problems::InvalidInput("an OSV record is a JSON object");
  Advisory a;
  a.id = JStr(r, "id");
  if (a.id.empty()) return problems::InvalidInput("an OSV record needs an \"id\"");
  a.summary = JStr(r, "summary");
  if (a.summary.empty()) {
    a.summary = JStr(r, "details").substr(0, 200);
    if (auto nl = a.summary.find('\n'); nl != std::string::npos) a.summary.resize(nl);
  }
  a.modified = JStr(r, "modified");
  a.withdrawn = !JStr(r, "withdrawn").empty();
  if (auto al = r.find("aliases"); al != r.end() && al->is_array()) {
    for (const auto& x : *al) {
      if (x.is_string()) a.aliases.push_back(x.get<std::string>());
    }
  }
  if (auto af = r.find("affected"); af != r.end()) {
    if (!af->is_array()) return problems::InvalidInput(a.id + ": \"affected\" is not an array");
    a.affected = *af;
  }
  // Severity: the highest scored CVSS vector; else GHSA's label.
  if (auto sev = r.find("severity"); sev != r.end() && sev->is_array()) {
    for (const auto& s : *sev) {
      if (!s.is_object()) continue;
      const std::string vec = JStr(s, "score");
      const auto score = CvssBaseScore(vec);
      if (score && (!a.score || *score > *a.score)) {
        a.score = score;
        a.vector = vec;
      } else if (!score && a.vector.empty()) {
        a.vector = vec;  // kept for the report (CVSS 4: not scored here)
      }
    }
  }
  if (a.score) {
    a.severity = SeverityOfScore(*a.score);
  } else if (auto ds = r.find("database_specific"); ds != r.end() && ds->is_object()) {
    const std::string label = Lower(JStr(*ds, "severity"));
    if (SeverityRank(label) > 0) a.severity = label == "moderate" ? "medium" : label;
  }
  if (auto refs = r.find("references"); refs != r.end() && refs->is_array()) {
    for (const auto& ref : *refs) {
      if (!ref.is_object()) continue;
      const std::string type = JStr(ref, "type");
      if (a.url.empty() || type == "ADVISORY") a.url = JStr(ref, "url");
      if (type == "ADVISORY") break;
    }
  }
  if (a.url.empty() && a.id.rfind("GHSA-", 0) == 0) a.url = "https://github.com/advisories/" + a.id;
  if (a.url.empty()) a.url = "https://osv.dev/vulnerability/" + a.id;
  return a;
}

bool Affects(const Json& entry, std::string_view ecosystem, std::string_view version,
             std::string* fixed) {
  if (!entry.is_object() || version.empty()) return false;
  const VersionScheme scheme = SchemeOfEcosystem(ecosystem);
  bool affected = false;
  std::string best_fix;
  if (auto vs = entry.find("versions"); vs != entry.end() && vs->is_array()) {
    for (const auto& v : *vs) {
      if (v.is_string() && CompareVersions(scheme, v.get<std::string>(), version) == 0)
        affected = true;
    }
  }
  auto ranges = entry.find("ranges");
  if (ranges != entry.end() && ranges->is_array()) {
    for (const auto& range : *ranges) {
      if (!range.is_object()) continue;
      const std::string type = JStr(range, "type");
      if (type != "SEMVER" && type != "ECOSYSTEM") continue;  // GIT: commits, not versions
      const VersionScheme s = type == "SEMVER" ? VersionScheme::kSemver : scheme;
      auto events = range.find("events");
      if (events == range.end() || !events->is_array()) continue;
      // Events sorted by version ("0" first); walking them in order, the
      // version is affected after an introduced at or below it and until a
      // fixed at or below it (a last_affected below it).
      struct Ev {
        std::string kind, v;
      };
      std::vector<Ev> evs;
      std::vector<std::string> limits;
      for (const auto& e : *events) {
        if (!e.is_object() || e.size() != 1) continue;
        const auto first = e.begin();  // (not items(): its proxy is a temporary)
        const std::string& k = first.key();
        const Json& v = first.value();
        if (!v.is_string()) continue;
        if (k == "limit") {
          limits.push_back(v.get<std::string>());
        } else if (k == "introduced" || k == "fixed" || k == "last_affected") {
          evs.push_back({k, v.get<std::string>()});
        }
      }
      auto cmp = [&](const std::string& a, std::string_view b) {
        if (a == "0") return b == "0" ? 0 : -1;
        return CompareVersions(s, a, b);
      };
      std::stable_sort(evs.begin(), evs.end(), [&](const Ev& a, const Ev& b) {
        if (a.v == "0" || b.v == "0") return a.v == "0" && b.v != "0";
        return CompareVersions(s, a.v, b.v) < 0;
      });
      bool in = false;
      for (const auto& e : evs) {
        if (e.kind == "introduced" && cmp(e.v, version) <= 0) in = true;
        if (e.kind == "fixed" && cmp(e.v, version) <= 0) in = false;
        if (e.kind == "last_affected" && cmp(e.v, version) < 0) in = false;
      }
      if (in && !limits.empty()) {
        in = std::any_of(limits.begin(), limits.end(),
                         [&](const std::string& l) { return l == "*" || cmp(l, version) > 0; });
      }
      if (!in) continue;
      affected = true;
      for (const auto& e : evs) {
        if (e.kind == "fixed" && cmp(e.v, version) > 0 &&
            (best_fix.empty() || CompareVersions(s, e.v, best_fix) < 0)) {
          best_fix = e.v;
        }
      }
    }
  }
  if (affected && fixed) *fixed = best_fix;
  return affected;
}

Json VulnFinding::ToJson() const {
  Json j = {{"id", advisory_id},  {"aliases", aliases},
            {"summary", summary}, {"severity", severity},
            {"url", url},         {"ecosystem", ecosystem},
            {"package", name},    {"version", version},
            {"purl", purl},       {"fixed", fixed.empty() ? Json() : Json(fixed)},
            {"direct", direct},   {"dev", dev},
            {"sources", sources}};
  j["cvss"] = vector.empty() ? Json()
                             : Json({{"vector", vector}, {"score", score ? Json(*score) : Json()}});
  j["remediation"] =
      !fixed.empty()
          ? "Upgrade " + name + " to " + fixed + " or later" +
                (direct ? "."
                        : " (it comes in through another dependency: upgrade that one, or pin it).")
          : "No fixed version is published: replace " + name +
                ", or accept the risk in policy.security.ignore.";
  return j;
}

Json ImportReport::ToJson() const {
  Json sk = Json::array();
  for (const auto& [f, why] : skipped) sk.push_back({{"file", f}, {"reason", why}});
  return {{"files", files},         {"added", added},         {"updated", updated},
          {"unchanged", unchanged}, {"withdrawn", withdrawn}, {"skipped", sk}};
}

// --- the database --------------------------------------------------------------

struct AdvisoryDb::Impl {
  std::unique_ptr<Db> db;
};

AdvisoryDb::~AdvisoryDb() = default;

Result<std::unique_ptr<AdvisoryDb>> AdvisoryDb::Open(const std::string& path, bool create) {
  std::error_code ec;
  if (!create && !fs::exists(path, ec)) {
    Problem p = problems::NotFound("advisory database", path);
    p.detail = "no advisory database at " + path +
               ": load one with `prodsprint db import PATH` (OSV JSON or zip) or "
               "`prodsprint db update`";
    return p;
  }
  if (create && !fs::path(path).parent_path().empty())
    PS_TRY(EnsureDir(fs::path(path).parent_path()));
  std::unique_ptr<AdvisoryDb> out(new AdvisoryDb());
  out->impl_ = std::make_unique<Impl>();
  try {
    out->impl_->db = std::make_unique<Db>(path, create);
    auto& db = *out->impl_->db;
    db.Exec("PRAGMA journal_mode=WAL");
    db.Exec(
        "CREATE TABLE IF NOT EXISTS advisory(id TEXT PRIMARY KEY, modified TEXT NOT NULL, "
        "record TEXT NOT NULL);"
        "CREATE TABLE IF NOT EXISTS affected(advisory TEXT NOT NULL, ecosystem TEXT NOT NULL, "
        "name TEXT NOT NULL);"
        "CREATE INDEX IF NOT EXISTS affected_package ON affected(ecosystem, name);"
        "CREATE INDEX IF NOT EXISTS affected_advisory ON affected(advisory);"
        "CREATE TABLE IF NOT EXISTS meta(key TEXT PRIMARY KEY, value TEXT NOT NULL);");
  } catch (const SqliteError& e) {
    return problems::Internal(std::string("advisory database ") + path + ": " + e.what());
  }
  return out;
}

void AdvisoryDb::SetMeta(const std::string& key, const std::string& value) {
  auto st = impl_->db->Prepare(
      "INSERT INTO meta(key, value) VALUES(?, ?) "
      "ON CONFLICT(key) DO UPDATE SET value = excluded.value");
  st->BindAll(key, value).Exec();
}

namespace {

// Stores one parsed record; counts into the report.
void Store(Db& db, const Advisory& a, const Json& record, ImportReport& rep) {
  auto old = db.Prepare("SELECT modified FROM advisory WHERE id = ?");
  old->Bind(1, a.id);
  const bool known = old->Step();
  const std::string old_modified = known ? old->Text(0) : "";
  old->Reset();
  auto drop = [&]() {
    db.Prepare("DELETE FROM affected WHERE advisory = ?")->Bind(1, a.id).Exec();
    db.Prepare("DELETE FROM advisory WHERE id = ?")->Bind(1, a.id).Exec();
  };
  if (a.withdrawn) {
    if (known) drop();
    ++rep.withdrawn;
    return;
  }
  if (known && old_modified >= a.modified) {
    ++rep.unchanged;
    return;
  }
  if (known) drop();
  db.Prepare("INSERT INTO advisory(id, modified, record) VALUES(?, ?, ?)")
      ->BindAll(a.id, a.modified, Dump(record))
      .Exec();
  std::set<std::pair<std::string, std::string>> pkgs;
  for (const auto& af : a.affected) {
    if (!af.is_object() || !af.contains("package") || !af["package"].is_object()) continue;
    const std::string eco = BaseEcosystem(JStr(af["package"], "ecosystem"));
    const std::string name = JStr(af["package"], "name");
    if (!eco.empty() && !name.empty()) pkgs.emplace(eco, CanonicalPackageName(eco, name));
  }
  for (const auto& [eco, name] : pkgs) {
    db.Prepare("INSERT INTO affected(advisory, ecosystem, name) VALUES(?, ?, ?)")
        ->BindAll(a.id, eco, name)
        .Exec();
  }
  ++(known ? rep.updated : rep.added);
}

void ImportJsonText(Db& db, const std::string& name, std::string_view text, ImportReport& rep) {
  ++rep.files;
  Json doc = Json::parse(text, nullptr, false);
  if (doc.is_discarded()) {
    rep.skipped.emplace_back(name, "not JSON");
    return;
  }
  std::vector<const Json*> records;
  if (doc.is_array()) {
    for (const auto& r : doc) records.push_back(&r);
  } else if (doc.is_object() && doc.contains("vulns") && doc["vulns"].is_array()) {
    for (const auto& r : doc["vulns"]) records.push_back(&r);  // an OSV API answer
  } else {
    records.push_back(&doc);
  }
  for (const Json* r : records) {
    auto a = ParseOsvRecord(*r);
    if (!a.ok()) {
      rep.skipped.emplace_back(name, a.problem().Message());
      continue;
    }
    Store(db, *a, *r, rep);
  }
}

bool EndsWith(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

}  // namespace

Result<ImportReport> AdvisoryDb::ImportBytes(const std::string& name, std::string_view bytes) {
  ImportReport rep;
  auto& db = *impl_->db;
  try {
    db.Exec("BEGIN IMMEDIATE");
    if (bytes.substr(0, 4) == std::string_view("PK\x03\x04", 4) ||
        bytes.substr(0, 4) == std::string_view("PK\x05\x06", 4)) {
      auto st = ReadZip(bytes, [&](const std::string& entry, const std::string& content) {
        if (EndsWith(entry, ".json")) ImportJsonText(db, name + ":" + entry, content, rep);
        return true;
      });
      if (!st.ok()) {
        db.Exec("ROLLBACK");
        Problem p = st.problem();
        p.detail = name + ": " + p.detail;
        return p;
      }
    } else {
      ImportJsonText(db, name, bytes, rep);
    }
    db.Exec("COMMIT");
  } catch (const SqliteError& e) {
    try {
      db.Exec("ROLLBACK");
    } catch (const SqliteError&) {
    }
    return problems::Internal(std::string("advisory database: ") + e.what());
  }
  return rep;
}

Result<ImportReport> AdvisoryDb::Import(const std::string& path,
                                        const std::function<bool()>& stopping) {
  std::error_code ec;
  std::vector<fs::path> files;
  if (fs::is_directory(path, ec)) {
    for (auto it = fs::recursive_directory_iterator(
             path, fs::directory_options::skip_permission_denied, ec);
         !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
      if (it->is_regular_file(ec) && !it->is_symlink(ec)) {
        const auto ext = it->path().extension().string();
        if (ext == ".json" || ext == ".zip") files.push_back(it->path());
      }
    }
    std::sort(files.begin(), files.end());
  } else if (fs::is_regular_file(path, ec)) {
    files.push_back(path);
  } else {
    Problem p = problems::NotFound("advisory file", path);
    p.detail = path + " is not a file or folder of OSV records";
    return p;
  }
  ImportReport total;
  for (const auto& f : files) {
    if (stopping && stopping()) break;
    auto bytes = ReadFile(f);
    if (!bytes.ok()) {
      total.skipped.emplace_back(f.string(), bytes.problem().Message());
      continue;
    }
    auto rep = ImportBytes(f.string(), *bytes);
    if (!rep.ok()) {
      if (rep.problem().status >= 500) return rep.problem();
      total.skipped.emplace_back(f.string(), rep.problem().Message());
      continue;
    }
    total.files += rep->files;
    total.added += rep->added;
    total.updated += rep->updated;
    total.unchanged += rep->unchanged;
    total.withdrawn += rep->withdrawn;
    for (auto& s : rep->skipped) total.skipped.push_back(std::move(s));
  }
  return total;
}

Result<std::vector<VulnFinding>> AdvisoryDb::Match(const DependencyGraph& graph) {
  std::vector<VulnFinding> out;
  auto& db = *impl_->db;
  try {
    std::map<std::string, std::optional<Advisory>> cache;
    std::map<std::string, Json> records;
    for (const auto& comp : graph.components) {
      if (comp.version.empty()) continue;
      const std::string canon = CanonicalPackageName(comp.ecosystem, comp.name);
      auto q = db.Prepare(
          "SELECT a.id, a.record FROM affected f JOIN advisory a ON a.id = f.advisory "
          "WHERE f.ecosystem = ? AND f.name = ? ORDER BY a.id");
      q->BindAll(comp.ecosystem, canon);
      std::vector<std::pair<std::string, std::string>> rows;
      while (q->Step()) rows.emplace_back(q->Text(0), q->Text(1));
      for (const auto& [id, text] : rows) {
        if (!cache.count(id)) {
          Json rec = Json::parse(text, nullptr, false);
          auto a = ParseOsvRecord(rec);
          cache[id] = a.ok() ? std::optional<Advisory>(*a) : std::nullopt;
        }
        const auto& adv = cache[id];
        if (!adv) continue;
        std::string fixed;
        bool hit = false;
        for (const auto& af : adv->affected) {
          if (!af.is_object() || !af.contains("package") || !af["package"].is_object()) continue;
          if (BaseEcosystem(JStr(af["package"], "ecosystem")) != comp.ecosystem ||
              CanonicalPackageName(comp.ecosystem, JStr(af["package"], "name")) != canon) {
            continue;
          }
          std::string f;
          if (Affects(af, comp.ecosystem, comp.version, &f)) {
            hit = true;
            if (!f.empty() && (fixed.empty() ||
                               CompareVersions(SchemeOfEcosystem(comp.ecosystem), f, fixed) < 0)) {
              fixed = f;
            }
          }
        }
        if (!hit) continue;
        VulnFinding v;
        v.advisory_id = adv->id;
        v.aliases = adv->aliases;
        v.summary = adv->summary;
        v.severity = adv->severity;
        v.vector = adv->vector;
        v.score = adv->score;
        v.url = adv->url;
        v.ecosystem = comp.ecosystem;
        v.name = comp.name;
        v.version = comp.version;
        v.purl = comp.purl;
        v.fixed = fixed;
        v.direct = comp.direct;
        v.dev = comp.dev;
        v.sources.assign(comp.sources.begin(), comp.sources.end());
        out.push_back(std::move(v));
      }
    }
  } catch (const SqliteError& e) {
    return problems::Internal(std::string("advisory database: ") + e.what());
  }
  std::stable_sort(out.begin(), out.end(), [](const VulnFinding& a, const VulnFinding& b) {
    if (SeverityRank(a.severity) != SeverityRank(b.severity)) {
      return SeverityRank(a.severity) > SeverityRank(b.severity);
    }
    return a.purl < b.purl;
  });
  return out;
}

Result<Json> AdvisoryDb::Status() {
  auto& db = *impl_->db;
  try {
    Json per = Json::object();
    auto q =
        db.Prepare("SELECT ecosystem, COUNT(DISTINCT advisory) FROM affected GROUP BY ecosystem");
    while (q->Step()) per[q->Text(0)] = q->Int(1);
    Json meta = Json::object();
    auto m = db.Prepare("SELECT key, value FROM meta ORDER BY key");
    while (m->Step()) meta[m->Text(0)] = m->Text(1);
    return Json{
        {"advisories", db.QueryInt("SELECT COUNT(*) FROM advisory")},
        {"newest_modified", db.QueryText("SELECT COALESCE(MAX(modified), '') FROM advisory")},
        {"ecosystems", per},
        {"meta", meta}};
  } catch (const SqliteError& e) {
    return problems::Internal(std::string("advisory database: ") + e.what());
  }
}

}  // namespace ps::security
