#include "security/deps.h"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cctype>
#include <functional>

#include "core/config.h"
#include "core/yaml.h"
#include "security/deps_internal.h"

namespace ps::security {

using deps::Collector;
using deps::Input;

namespace deps {

std::string Identity(std::string_view s) { return std::string(s); }

std::string Collector::Add(std::string_view ecosystem, std::string_view name,
                           std::string_view version, const std::string& source) {
  std::string purl = MakePurl(ecosystem, name, version);
  auto [it, fresh] = by_purl_.try_emplace(purl);
  Component& comp = it->second;
  if (fresh) {
    comp.ecosystem = std::string(ecosystem);
    comp.name = std::string(name);
    comp.version = std::string(version);
    comp.purl = purl;
  }
  comp.sources.insert(source);
  return purl;
}

void Collector::MarkDirect(const std::vector<std::string>& purls,
                           const std::set<std::string>& direct,
                           const std::set<std::string>& dev_direct,
                           const std::function<std::string(std::string_view)>& normalize) {
  std::set<std::string> d, dd;
  for (const auto& n : direct) d.insert(normalize(n));
  for (const auto& n : dev_direct) dd.insert(normalize(n));
  for (const auto& p : purls) {
    auto it = by_purl_.find(p);
    if (it == by_purl_.end()) continue;
    const std::string n = normalize(it->second.name);
    if (d.count(n) || dd.count(n)) it->second.direct = true;
  }
}

std::optional<Json> ParseJsonInput(const Input& in, Collector& c) {
  Json j = Json::parse(in.content, nullptr, false);
  if (j.is_discarded() || !j.is_object()) {
    c.Warn(in.path, "malformed JSON; skipped");
    return std::nullopt;
  }
  return j;
}

std::set<std::string> PackageJsonNames(const std::string* text, bool dev) {
  std::set<std::string> out;
  if (!text) return out;
  Json j = Json::parse(*text, nullptr, false);
  if (j.is_discarded() || !j.is_object()) return out;
  const std::vector<const char*> keys =
      dev ? std::vector<const char*>{"devDependencies"}
          : std::vector<const char*>{"dependencies", "optionalDependencies", "peerDependencies"};
  for (const char* k : keys) {
    auto it = j.find(k);
    if (it == j.end() || !it->is_object()) continue;
    for (auto d = it->begin(); d != it->end(); ++d) out.insert(d.key());
  }
  return out;
}

namespace {

std::string Str(const Json& j, const char* key) {
  auto it = j.find(key);
  return it != j.end() && it->is_string() ? it->get<std::string>() : std::string();
}

// "sha512-BASE64" (SRI) -> {"SHA-512": hex}.
void AddIntegrity(Component& comp, std::string_view sri) {
  static const std::pair<const char*, const char*> kAlgs[] = {
      {"sha512-", "SHA-512"}, {"sha384-", "SHA-384"}, {"sha256-", "SHA-256"}, {"sha1-", "SHA-1"}};
  for (const auto& [prefix, alg] : kAlgs) {
    if (sri.substr(0, std::char_traits<char>::length(prefix)) == prefix) {
      auto hex = Base64ToHex(sri.substr(std::char_traits<char>::length(prefix)));
      if (!hex.empty()) comp.hashes[alg] = hex;
      return;
    }
  }
}

void AddLicense(Component& comp, const Json& lic) {
  if (lic.is_string() && !lic.get<std::string>().empty())
    comp.licenses.insert(lic.get<std::string>());
  if (lic.is_array()) {
    for (const auto& l : lic) AddLicense(comp, l);
  }
  if (lic.is_object()) AddLicense(comp, lic.value("type", Json()));
}

// "name@range" -> name (a leading '@' is the scope's).
std::string NameOfDescriptor(std::string_view d) {
  const auto at = d.find('@', 1);
  return std::string(at == std::string_view::npos ? d : d.substr(0, at));
}

std::string Unquote(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  if (s.size() >= 2 && s.front() == '"' && s.back() == '"') s = s.substr(1, s.size() - 2);
  return std::string(s);
}

YAML::Node LoadYaml(const Input& in, Collector& c) {
  if (!YamlNestingWithinLimit(in.content)) {
    c.Warn(in.path, "nested too deeply; skipped");
    return {};
  }
  try {
    return YAML::Load(in.content);
  } catch (const YAML::Exception& e) {
    c.Warn(in.path, "malformed YAML: " + e.msg);
    return {};
  }
}

std::string YStr(const YAML::Node& n) { return n && n.IsScalar() ? n.Scalar() : std::string(); }

}  // namespace

// npm package-lock.json / npm-shrinkwrap.json, lockfileVersion 1, 2 and 3.
std::vector<std::string> ReadNpmLock(const Input& in, Collector& c) {
  std::vector<std::string> added;
  auto j = ParseJsonInput(in, c);
  if (!j) return added;
  auto packages = j->find("packages");
  if (packages != j->end() && packages->is_object()) {
    // v2/v3: "node_modules/a/node_modules/b" -> entry; resolution walks up.
    std::map<std::string, std::string> purl_at;  // install path -> purl
    for (auto it = packages->begin(); it != packages->end(); ++it) {
      const std::string& key = it.key();
      const Json& p = it.value();
      if (!p.is_object() || p.value("link", false)) continue;
      const auto nm = key.rfind("node_modules/");
      if (nm == std::string::npos) continue;  // the root or a workspace folder
      std::string name = Str(p, "name");
      if (name.empty()) name = key.substr(nm + 13);
      const std::string version = Str(p, "version");
      if (name.empty() || version.empty()) continue;
      const std::string purl = c.Add("npm", name, version, in.path);
      Component& comp = c.At(purl);
      if (p.value("dev", false)) comp.dev = true;
      AddIntegrity(comp, Str(p, "integrity"));
      if (p.contains("license")) AddLicense(comp, p["license"]);
      purl_at[key] = purl;
      added.push_back(purl);
    }
    auto resolve = [&](std::string base, const std::string& dep) -> std::string {
      while (true) {
        const std::string candidate =
            base.empty() ? "node_modules/" + dep : base + "/node_modules/" + dep;
        if (auto f = purl_at.find(candidate); f != purl_at.end()) return f->second;
        if (base.empty()) return {};
        const auto cut = base.rfind("/node_modules/");
        base = cut == std::string::npos ? std::string() : base.substr(0, cut);
      }
    };
    for (auto it = packages->begin(); it != packages->end(); ++it) {
      const Json& p = it.value();
      if (!p.is_object()) continue;
      const bool project = it.key().find("node_modules/") == std::string::npos;
      for (const char* field :
           {"dependencies", "optionalDependencies", "peerDependencies", "devDependencies"}) {
        auto deps = p.find(field);
        if (deps == p.end() || !deps->is_object()) continue;
        if (!project && std::string_view(field) == "devDependencies") continue;
        for (auto d = deps->begin(); d != deps->end(); ++d) {
          const std::string target = resolve(it.key(), d.key());
          if (target.empty()) continue;
          if (project) {
            c.At(target).direct = true;
          } else {
            c.Edge(purl_at[it.key()], target);
          }
        }
      }
    }
    return added;
  }
  // v1: nested "dependencies" objects; "requires" resolved through scopes.
  struct Scope {
    const Json* deps;
    std::map<std::string, std::string> purls;
  };
  std::vector<Scope> stack;
  std::function<void(const Json&, int)> walk = [&](const Json& deps, int depth) {
    if (depth > 64 || !deps.is_object()) return;
    stack.push_back({&deps, {}});
    for (auto it = deps.begin(); it != deps.end(); ++it) {
      if (!it->is_object()) continue;
      const std::string version = Str(*it, "version");
      if (version.empty() || version.find(':') != std::string::npos) continue;  // file:, git:
      const std::string purl = c.Add("npm", it.key(), version, in.path);
      Component& comp = c.At(purl);
      if (it->value("dev", false)) comp.dev = true;
      AddIntegrity(comp, Str(*it, "integrity"));
      stack.back().purls[it.key()] = purl;
      added.push_back(purl);
    }
    for (auto it = deps.begin(); it != deps.end(); ++it) {
      if (it->is_object() && it->contains("dependencies")) walk((*it)["dependencies"], depth + 1);
    }
    for (auto it = deps.begin(); it != deps.end(); ++it) {
      if (!it->is_object() || !it->contains("requires") || !(*it)["requires"].is_object()) continue;
      const std::string from = stack.back().purls[it.key()];
      // Its own nested dependencies first, then the enclosing scopes.
      std::map<std::string, std::string> own;
      if (it->contains("dependencies") && (*it)["dependencies"].is_object()) {
        for (auto n = (*it)["dependencies"].begin(); n != (*it)["dependencies"].end(); ++n) {
          if (n->is_object()) own[n.key()] = MakePurl("npm", n.key(), Str(*n, "version"));
        }
      }
      for (auto r = (*it)["requires"].begin(); r != (*it)["requires"].end(); ++r) {
        std::string target;
        if (auto f = own.find(r.key()); f != own.end()) target = f->second;
        for (auto s = stack.rbegin(); target.empty() && s != stack.rend(); ++s) {
          if (auto f = s->purls.find(r.key()); f != s->purls.end()) target = f->second;
        }
        if (!target.empty() && c.components().count(target)) c.Edge(from, target);
      }
    }
    stack.pop_back();
  };
  if (j->contains("dependencies")) walk((*j)["dependencies"], 0);
  const auto* manifest = in.Sibling("package.json");
  c.MarkDirect(added, PackageJsonNames(manifest, false), PackageJsonNames(manifest, true),
               Identity);
  return added;
}

// yarn.lock: Yarn classic (its own format) or Berry (YAML with __metadata).
std::vector<std::string> ReadYarnLock(const Input& in, Collector& c) {
  std::vector<std::string> added;
  std::map<std::string, std::string> by_descriptor;                    // "a@^1.0.0" -> purl
  std::vector<std::pair<std::string, std::vector<std::string>>> deps;  // purl -> descriptors
  const auto* manifest = in.Sibling("package.json");
  auto dev_names = PackageJsonNames(manifest, true);
  auto prod_names = PackageJsonNames(manifest, false);
  if (in.content.find("__metadata:") != std::string::npos) {
    YAML::Node doc = LoadYaml(in, c);
    if (!doc.IsMap()) return added;
    for (auto it = doc.begin(); it != doc.end(); ++it) {
      const std::string key = YStr(it->first);
      if (key == "__metadata" || !it->second.IsMap()) continue;
      const std::string resolution = YStr(it->second["resolution"]);
      const std::string version = YStr(it->second["version"]);
      std::vector<std::string> descriptors;
      std::size_t start = 0;
      while (start <= key.size()) {
        auto comma = key.find(", ", start);
        descriptors.push_back(
            Unquote(key.substr(start, comma == std::string::npos ? comma : comma - start)));
        if (comma == std::string::npos) break;
        start = comma + 2;
      }
      if (resolution.find("@workspace:") != std::string::npos ||
          YStr(it->second["linkType"]) == "soft") {
        // A workspace: its dependencies are the project's direct ones.
        if (resolution.find("@workspace:.") != std::string::npos) {
          const auto d = it->second["dependencies"];
          if (d && d.IsMap()) {
            for (auto x = d.begin(); x != d.end(); ++x) {
              if (!dev_names.count(YStr(x->first))) prod_names.insert(YStr(x->first));
            }
          }
        }
        continue;
      }
      if (version.empty() || descriptors.empty()) continue;
      const std::string name = NameOfDescriptor(descriptors.front());
      const std::string purl = c.Add("npm", name, version, in.path);
      added.push_back(purl);
      for (const auto& d : descriptors) {
        by_descriptor[d] = purl;
        // "a@npm:^1.0.0" is also written "a@^1.0.0" in dependency lists.
        const auto npm = d.find("@npm:", 1);
        if (npm != std::string::npos)
          by_descriptor[d.substr(0, npm) + "@" + d.substr(npm + 5)] = purl;
      }
      std::vector<std::string> wanted;
      const auto d = it->second["dependencies"];
      if (d && d.IsMap()) {
        for (auto x = d.begin(); x != d.end(); ++x) {
          wanted.push_back(YStr(x->first) + "@" + YStr(x->second));
        }
      }
      deps.emplace_back(purl, std::move(wanted));
    }
  } else {
    // Classic: "a@^1.0.0, a@^1.1.0:" blocks with two-space fields.
    std::string current;
    std::vector<std::string> descriptors;
    bool in_deps = false;
    std::vector<std::string> wanted;
    std::string version, integrity;
    auto flush = [&]() {
      if (!descriptors.empty() && !version.empty()) {
        const std::string purl =
            c.Add("npm", NameOfDescriptor(descriptors.front()), version, in.path);
        AddIntegrity(c.At(purl), integrity);
        added.push_back(purl);
        for (const auto& d : descriptors) by_descriptor[d] = purl;
        deps.emplace_back(purl, wanted);
      }
      descriptors.clear();
      wanted.clear();
      version.clear();
      integrity.clear();
      in_deps = false;
    };
    std::size_t pos = 0;
    while (pos < in.content.size()) {
      auto nl = in.content.find('\n', pos);
      std::string_view line(in.content.data() + pos,
                            (nl == std::string::npos ? in.content.size() : nl) - pos);
      pos = nl == std::string::npos ? in.content.size() : nl + 1;
      if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
      if (line.empty() || line.front() == '#') continue;
      if (line.front() != ' ') {
        flush();
        std::string_view header = line;
        if (!header.empty() && header.back() == ':') header.remove_suffix(1);
        std::size_t start = 0;
        while (start <= header.size()) {
          auto comma = header.find(',', start);
          auto part = Unquote(
              header.substr(start, comma == std::string_view::npos ? comma : comma - start));
          if (!part.empty()) descriptors.push_back(part);
          if (comma == std::string_view::npos) break;
          start = comma + 1;
        }
        continue;
      }
      const std::size_t indent = line.find_first_not_of(' ');
      if (indent == std::string_view::npos) continue;
      std::string_view body = line.substr(indent);
      if (indent == 2) {
        in_deps = body == "dependencies:" || body == "optionalDependencies:";
        if (body.rfind("version ", 0) == 0) version = Unquote(body.substr(8));
        if (body.rfind("integrity ", 0) == 0) integrity = Unquote(body.substr(10));
      } else if (indent >= 4 && in_deps) {
        // `name "range"` or `"@scope/name" "range"`.
        std::string name, range;
        if (body.front() == '"') {
          auto close = body.find('"', 1);
          if (close == std::string_view::npos) continue;
          name = std::string(body.substr(1, close - 1));
          range = Unquote(body.substr(close + 1));
        } else {
          auto space = body.find(' ');
          if (space == std::string_view::npos) continue;
          name = std::string(body.substr(0, space));
          range = Unquote(body.substr(space + 1));
        }
        wanted.push_back(name + "@" + range);
      }
    }
    flush();
  }
  for (const auto& [purl, wanted] : deps) {
    for (const auto& w : wanted) {
      if (auto f = by_descriptor.find(w); f != by_descriptor.end()) c.Edge(purl, f->second);
    }
  }
  // Yarn does not mark development dependencies: a direct one named only
  // in devDependencies is dev; what it pulls in is not told apart.
  c.MarkDirect(added, prod_names, dev_names, Identity);
  for (const auto& p : added) {
    auto& comp = c.At(p);
    if (comp.direct && dev_names.count(comp.name) && !prod_names.count(comp.name)) comp.dev = true;
  }
  return added;
}

namespace {

// pnpm keys: "/a@1.0.0(peer@2)" (v6), "a@1.0.0(peer@2)" (v9), "/a/1.0.0_peer@2" (v5).
bool SplitPnpmKey(std::string key, std::string& name, std::string& version) {
  if (auto paren = key.find('('); paren != std::string::npos) key.resize(paren);
  if (!key.empty() && key.front() == '/') key.erase(0, 1);
  auto at = key.find('@', 1);
  if (at != std::string::npos) {
    name = key.substr(0, at);
    version = key.substr(at + 1);
  } else {
    // v5: "/a/1.0.0_peer" or "/@scope/a/1.0.0".
    auto slash = key.rfind('/');
    if (slash == std::string::npos) return false;
    name = key.substr(0, slash);
    version = key.substr(slash + 1);
    if (auto us = version.find('_'); us != std::string::npos) version.resize(us);
  }
  return !name.empty() && !version.empty() && std::isdigit(static_cast<unsigned char>(version[0]));
}

std::string PnpmVersion(std::string v) {
  if (auto paren = v.find('('); paren != std::string::npos) v.resize(paren);
  if (auto us = v.find('_'); us != std::string::npos) v.resize(us);
  return v;
}

}  // namespace

// pnpm-lock.yaml, lockfileVersion 5.x, 6.0 and 9.0.
std::vector<std::string> ReadPnpmLock(const Input& in, Collector& c) {
  std::vector<std::string> added;
  YAML::Node doc = LoadYaml(in, c);
  if (!doc.IsMap()) return added;
  const auto packages = doc["packages"];
  if (packages && packages.IsMap()) {
    for (auto it = packages.begin(); it != packages.end(); ++it) {
      std::string name, version;
      if (!SplitPnpmKey(YStr(it->first), name, version)) continue;
      const std::string purl = c.Add("npm", name, version, in.path);
      auto& comp = c.At(purl);
      if (it->second.IsMap()) {
        if (it->second["dev"] && YStr(it->second["dev"]) == "true") comp.dev = true;
        const auto res = it->second["resolution"];
        if (res && res.IsMap()) AddIntegrity(comp, YStr(res["integrity"]));
        const auto lic = it->second["license"];
        if (lic && lic.IsScalar()) comp.licenses.insert(lic.Scalar());
      }
      added.push_back(purl);
    }
  }
  // Edges: v9 keeps them in "snapshots", earlier versions in "packages".
  const auto snapshots = doc["snapshots"];
  const auto& graph = snapshots && snapshots.IsMap() ? snapshots : packages;
  if (graph && graph.IsMap()) {
    for (auto it = graph.begin(); it != graph.end(); ++it) {
      std::string name, version;
      if (!SplitPnpmKey(YStr(it->first), name, version) || !it->second.IsMap()) continue;
      const std::string from = MakePurl("npm", name, version);
      if (!c.components().count(from)) continue;
      for (const char* field : {"dependencies", "optionalDependencies"}) {
        const auto d = it->second[field];
        if (!d || !d.IsMap()) continue;
        for (auto x = d.begin(); x != d.end(); ++x) {
          const std::string to = MakePurl("npm", YStr(x->first), PnpmVersion(YStr(x->second)));
          if (c.components().count(to)) c.Edge(from, to);
        }
      }
    }
  }
  // Direct: importers (workspaces, v6+ and v9) or top-level maps (v5/v6).
  auto mark = [&](const YAML::Node& owner) {
    for (const char* field : {"dependencies", "optionalDependencies", "devDependencies"}) {
      const auto d = owner[field];
      if (!d || !d.IsMap()) continue;
      for (auto x = d.begin(); x != d.end(); ++x) {
        std::string v = x->second.IsMap() ? YStr(x->second["version"]) : YStr(x->second);
        const std::string purl = MakePurl("npm", YStr(x->first), PnpmVersion(v));
        auto f = c.components().find(purl);
        if (f != c.components().end()) f->second.direct = true;
      }
    }
  };
  const auto importers = doc["importers"];
  if (importers && importers.IsMap()) {
    for (auto it = importers.begin(); it != importers.end(); ++it) {
      if (it->second.IsMap()) mark(it->second);
    }
  } else {
    mark(doc);
  }
  return added;
}

// package.json without a lockfile beside it: direct components, versions unknown.
std::vector<std::string> ReadPackageJson(const Input& in, Collector& c) {
  std::vector<std::string> added;
  auto j = ParseJsonInput(in, c);
  if (!j) return added;
  const auto prod = PackageJsonNames(&in.content, false);
  for (bool dev : {false, true}) {
    for (const auto& name : dev ? PackageJsonNames(&in.content, true) : prod) {
      if (dev && prod.count(name)) continue;
      const std::string purl = c.Add("npm", name, "", in.path);
      c.At(purl).direct = true;
      c.At(purl).dev = dev;
      added.push_back(purl);
    }
  }
  return added;
}

}  // namespace deps

// --- the public side ---------------------------------------------------------

Json Component::ToJson() const {
  Json j = {{"ecosystem", ecosystem}, {"name", name}, {"version", version}, {"purl", purl},
            {"direct", direct},       {"dev", dev},   {"sources", sources}};
  if (!hashes.empty()) j["hashes"] = hashes;
  if (!licenses.empty()) j["licenses"] = licenses;
  if (!depends_on.empty()) j["depends_on"] = depends_on;
  return j;
}

const Component* DependencyGraph::Find(const std::string& purl) const {
  auto it = std::lower_bound(components.begin(), components.end(), purl,
                             [](const Component& c, const std::string& p) { return c.purl < p; });
  return it != components.end() && it->purl == purl ? &*it : nullptr;
}

std::string NormalizePythonName(std::string_view name) {
  std::string out;
  bool sep = false;
  for (char ch : name) {
    if (ch == '-' || ch == '_' || ch == '.') {
      sep = true;
      continue;
    }
    if (sep && !out.empty()) out += '-';
    sep = false;
    out += static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
  }
  return out;
}

std::string Base64ToHex(std::string_view b64) {
  auto val = [](char ch) -> int {
    if (ch >= 'A' && ch <= 'Z') return ch - 'A';
    if (ch >= 'a' && ch <= 'z') return ch - 'a' + 26;
    if (ch >= '0' && ch <= '9') return ch - '0' + 52;
    if (ch == '+' || ch == '-') return 62;
    if (ch == '/' || ch == '_') return 63;
    return -1;
  };
  static const char* kHex = "0123456789abcdef";
  std::string out;
  unsigned acc = 0;
  int bits = 0;
  for (char ch : b64) {
    if (ch == '=') break;
    const int v = val(ch);
    if (v < 0) return {};
    acc = (acc << 6) | static_cast<unsigned>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      const unsigned byte = (acc >> bits) & 0xFFu;
      out += kHex[byte >> 4];
      out += kHex[byte & 15];
    }
  }
  return out;
}

namespace {

// purl percent-encoding: everything but unreserved characters.
std::string PurlEncode(std::string_view s, bool keep_slash = false) {
  static const char* kHex = "0123456789ABCDEF";
  std::string out;
  for (unsigned char ch : s) {
    if (std::isalnum(ch) || ch == '.' || ch == '-' || ch == '_' || ch == '~' ||
        (keep_slash && ch == '/')) {
      out += static_cast<char>(ch);
    } else {
      out += '%';
      out += kHex[ch >> 4];
      out += kHex[ch & 15];
    }
  }
  return out;
}

}  // namespace

std::string MakePurl(std::string_view eco, std::string_view name, std::string_view version) {
  std::string type, ns, n(name);
  if (eco == "npm") {
    type = "npm";
    if (!n.empty() && n[0] == '@' && n.find('/') != std::string::npos) {
      ns = n.substr(0, n.find('/'));
      n = n.substr(n.find('/') + 1);
    }
  } else if (eco == "PyPI") {
    type = "pypi";
    n = NormalizePythonName(n);
  } else if (eco == "Go") {
    type = "golang";
    if (auto slash = n.rfind('/'); slash != std::string::npos) {
      ns = n.substr(0, slash);
      n = n.substr(slash + 1);
    }
  } else if (eco == "crates.io") {
    type = "cargo";
  } else if (eco == "RubyGems") {
    type = "gem";
  } else if (eco == "Packagist") {
    type = "composer";
    if (auto slash = n.find('/'); slash != std::string::npos) {
      ns = n.substr(0, slash);
      n = n.substr(slash + 1);
    }
  } else if (eco == "Maven") {
    type = "maven";
    if (auto colon = n.find(':'); colon != std::string::npos) {
      ns = n.substr(0, colon);
      n = n.substr(colon + 1);
    }
  } else if (eco == "NuGet") {
    type = "nuget";
  } else if (eco == "Hex") {
    type = "hex";
  } else {
    type = "generic";
  }
  std::string out = "pkg:" + type + "/";
  if (!ns.empty()) out += PurlEncode(ns, type == "golang") + "/";
  out += PurlEncode(n);
  if (!version.empty()) out += "@" + PurlEncode(version);
  return out;
}

namespace {

std::string BaseName(std::string_view path) {
  auto slash = path.rfind('/');
  return std::string(slash == std::string_view::npos ? path : path.substr(slash + 1));
}

bool IsRequirementsFile(std::string_view path) {
  const std::string base = BaseName(path);
  if (base.size() < 5 || base.substr(base.size() - 4) != ".txt") return false;
  if (base.find("requirements") != std::string::npos) return true;
  // requirements/base.txt
  const auto slash = path.rfind('/');
  return slash != std::string_view::npos && slash >= 12 && path.substr(0, slash).size() >= 12 &&
         path.substr(slash - 12, 12) == "requirements";
}

struct Format {
  const char* file;
  deps::Reader reader;
  const char* ecosystem;
  bool lockfile;  // false: a manifest, read only when no lockfile covers it
};

const Format kFormats[] = {
    {"package-lock.json", deps::ReadNpmLock, "npm", true},
    {"npm-shrinkwrap.json", deps::ReadNpmLock, "npm", true},
    {"yarn.lock", deps::ReadYarnLock, "npm", true},
    {"pnpm-lock.yaml", deps::ReadPnpmLock, "npm", true},
    {"package.json", deps::ReadPackageJson, "npm", false},
    {"poetry.lock", deps::ReadPoetryLock, "PyPI", true},
    {"Pipfile.lock", deps::ReadPipfileLock, "PyPI", true},
    {"uv.lock", deps::ReadUvLock, "PyPI", true},
    {"pyproject.toml", deps::ReadPyproject, "PyPI", false},
    {"go.mod", deps::ReadGoMod, "Go", true},
    {"Cargo.lock", deps::ReadCargoLock, "crates.io", true},
    {"Cargo.toml", deps::ReadCargoToml, "crates.io", false},
    {"Gemfile.lock", deps::ReadGemfileLock, "RubyGems", true},
    {"Gemfile", deps::ReadGemfile, "RubyGems", false},
    {"composer.lock", deps::ReadComposerLock, "Packagist", true},
    {"composer.json", deps::ReadComposerJson, "Packagist", false},
    {"pom.xml", deps::ReadPom, "Maven", true},
    {"gradle.lockfile", deps::ReadGradleLock, "Maven", true},
    {"packages.lock.json", deps::ReadNuGetLock, "NuGet", true},
    {"mix.lock", deps::ReadMixLock, "Hex", true},
};

bool Vendored(std::string_view path) {
  return path.find("node_modules/") != std::string_view::npos || path.rfind("vendor/", 0) == 0 ||
         path.find("/vendor/") != std::string_view::npos;
}

}  // namespace

bool IsDependencyFile(std::string_view path) {
  if (Vendored(path)) return false;
  const std::string base = BaseName(path);
  for (const auto& f : kFormats) {
    if (base == f.file) return true;
  }
  return IsRequirementsFile(path);
}

DependencyGraph ReadDependencies(const std::map<std::string, std::string>& files) {
  DependencyGraph graph;
  Collector all;
  // Folders with a lockfile per ecosystem: a manifest there or below is
  // covered by it (workspaces), not read on its own.
  std::map<std::string, std::set<std::string>> locked;  // ecosystem -> folders
  for (const auto& [path, content] : files) {
    const std::string base = BaseName(path);
    for (const auto& f : kFormats) {
      if (f.lockfile && base == f.file)
        locked[f.ecosystem].insert(path.substr(0, path.size() - base.size()));
    }
    if (IsRequirementsFile(path)) locked["PyPI"].insert(path.substr(0, path.size() - base.size()));
  }
  auto covered = [&](const std::string& eco, const std::string& dir) {
    for (const auto& d : locked[eco]) {
      if (dir.rfind(d, 0) == 0) return true;
    }
    return false;
  };
  for (const auto& [path, content] : files) {
    if (Vendored(path)) continue;
    const std::string base = BaseName(path);
    const std::string dir = path.substr(0, path.size() - base.size());
    deps::Reader reader = nullptr;
    for (const auto& f : kFormats) {
      if (base != f.file) continue;
      if (!f.lockfile && covered(f.ecosystem, dir)) break;
      reader = f.reader;
    }
    if (!reader && IsRequirementsFile(path)) reader = deps::ReadRequirements;
    if (!reader) continue;
    Collector one;
    deps::Input in{&files, path, dir, content};
    try {
      reader(in, one);
    } catch (const std::exception& e) {
      // A malformed file changes nothing: what it added is dropped.
      all.Warn(path, std::string("could not be read: ") + e.what());
      continue;
    }
    graph.files.push_back(path);
    for (auto& w : one.warnings()) all.warnings().push_back(std::move(w));
    for (auto& [purl, comp] : one.components()) {
      auto [it, fresh] = all.components().try_emplace(purl, comp);
      if (fresh) continue;
      Component& m = it->second;
      m.direct = m.direct || comp.direct;
      m.dev = m.dev && comp.dev;
      m.sources.insert(comp.sources.begin(), comp.sources.end());
      m.hashes.insert(comp.hashes.begin(), comp.hashes.end());
      m.licenses.insert(comp.licenses.begin(), comp.licenses.end());
      m.depends_on.insert(comp.depends_on.begin(), comp.depends_on.end());
    }
  }
  for (auto& [purl, comp] : all.components()) graph.components.push_back(std::move(comp));
  graph.warnings = std::move(all.warnings());
  return graph;
}

}  // namespace ps::security
