// Go, Rust, Ruby, PHP, JVM, .NET and Elixir dependency files.
#include <expat.h>

#include <cctype>
#include <memory>

#include "security/deps_toml.h"

namespace ps::security::deps {
namespace {

std::vector<std::string_view> Lines(std::string_view text) {
  std::vector<std::string_view> out;
  std::size_t pos = 0;
  while (pos < text.size()) {
    auto nl = text.find('\n', pos);
    auto line = text.substr(pos, nl == std::string_view::npos ? std::string_view::npos : nl - pos);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    out.push_back(line);
    if (nl == std::string_view::npos) break;
    pos = nl + 1;
  }
  return out;
}

std::string_view TrimView(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  return s;
}

std::vector<std::string_view> Words(std::string_view s) {
  std::vector<std::string_view> out;
  std::size_t i = 0;
  while (i < s.size()) {
    while (i < s.size() && std::isspace(static_cast<unsigned char>(s[i]))) ++i;
    const std::size_t b = i;
    while (i < s.size() && !std::isspace(static_cast<unsigned char>(s[i]))) ++i;
    if (i > b) out.push_back(s.substr(b, i - b));
  }
  return out;
}

std::string StripV(std::string v) {
  if (!v.empty() && (v[0] == 'v' || v[0] == 'V') && v.size() > 1 &&
      std::isdigit(static_cast<unsigned char>(v[1]))) {
    v.erase(0, 1);
  }
  return v;
}

}  // namespace

// go.mod: require lines (// indirect: transitive) and replace directives.
std::vector<std::string> ReadGoMod(const Input& in, Collector& c) {
  std::vector<std::string> added;
  struct Req {
    std::string path, version;
    bool indirect;
  };
  std::vector<Req> reqs;
  std::map<std::string, std::pair<std::string, std::string>> replace;  // path -> (path, version)
  std::string block;
  for (auto line : Lines(in.content)) {
    std::string_view body = TrimView(line);
    const bool indirect = body.find("// indirect") != std::string_view::npos;
    if (auto comment = body.find("//"); comment != std::string_view::npos)
      body = TrimView(body.substr(0, comment));
    if (body.empty()) continue;
    if (body == ")") {
      block.clear();
      continue;
    }
    auto w = Words(body);
    std::string verb = block;
    std::size_t at = 0;
    if (block.empty()) {
      verb = std::string(w[0]);
      at = 1;
      if (w.size() == 2 && w[1] == "(") {
        block = verb;
        continue;
      }
    }
    if (verb == "require" && w.size() >= at + 2) {
      reqs.push_back({std::string(w[at]), std::string(w[at + 1]), indirect});
    } else if (verb == "replace") {
      // old [v] => new [v]
      std::size_t arrow = at;
      while (arrow < w.size() && w[arrow] != "=>") ++arrow;
      if (arrow + 1 < w.size()) {
        replace[std::string(w[at])] = {std::string(w[arrow + 1]),
                                       arrow + 2 < w.size() ? std::string(w[arrow + 2]) : ""};
      }
    }
  }
  for (const auto& r : reqs) {
    std::string path = r.path, version = r.version;
    if (auto f = replace.find(path); f != replace.end()) {
      if (f->second.second.empty()) continue;  // replaced by a local folder: the project's own
      path = f->second.first;
      version = f->second.second;
    }
    const std::string purl = c.Add("Go", path, version, in.path);
    c.At(purl).direct = c.At(purl).direct || !r.indirect;
    added.push_back(purl);
  }
  return added;
}

// Cargo.lock: packages without a source are the workspace's own crates;
// what they depend on is direct.
std::vector<std::string> ReadCargoLock(const Input& in, Collector& c) {
  std::vector<std::string> added;
  auto doc = LoadToml(in, c);
  if (!doc) return added;
  auto pkgs = (*doc)["package"].as_array();
  if (!pkgs) return added;
  std::multimap<std::string, std::string> by_name;  // name -> purl
  std::map<std::string, std::string> by_name_version;
  struct Entry {
    std::string purl;
    bool root;
    std::vector<std::string> deps;
  };
  std::vector<Entry> entries;
  for (const auto& node : *pkgs) {
    auto t = node.as_table();
    if (!t) continue;
    const std::string name = TStr(t->get("name")), version = TStr(t->get("version"));
    if (name.empty() || version.empty()) continue;
    Entry e;
    e.root = TStr(t->get("source")).empty();
    if (!e.root) {
      e.purl = c.Add("crates.io", name, version, in.path);
      const std::string sum = TStr(t->get("checksum"));
      if (sum.size() == 64) c.At(e.purl).hashes["SHA-256"] = sum;
      by_name.emplace(name, e.purl);
      by_name_version[name + " " + version] = e.purl;
      added.push_back(e.purl);
    }
    if (auto d = t->get_as<toml::array>("dependencies")) {
      for (const auto& x : *d) {
        if (auto s = x.value<std::string>()) e.deps.push_back(*s);
      }
    }
    entries.push_back(std::move(e));
  }
  for (const auto& e : entries) {
    for (const auto& d : e.deps) {
      // "name", "name version" or "name version (source)".
      auto w = Words(d);
      if (w.empty()) continue;
      std::string target;
      if (w.size() >= 2) {
        if (auto f = by_name_version.find(std::string(w[0]) + " " + std::string(w[1]));
            f != by_name_version.end()) {
          target = f->second;
        }
      } else if (by_name.count(std::string(w[0])) == 1) {
        target = by_name.find(std::string(w[0]))->second;
      }
      if (target.empty()) continue;
      if (e.root) {
        c.At(target).direct = true;
      } else {
        c.Edge(e.purl, target);
      }
    }
  }
  return added;
}

// Cargo.toml without a Cargo.lock: direct crates, versions unknown.
std::vector<std::string> ReadCargoToml(const Input& in, Collector& c) {
  std::vector<std::string> added;
  auto doc = LoadToml(in, c);
  if (!doc) return added;
  for (const char* table : {"dependencies", "dev-dependencies", "build-dependencies"}) {
    auto t = (*doc)[table].as_table();
    if (!t) continue;
    for (const auto& [k, v] : *t) {
      std::string name(k.str());
      if (auto vt = v.as_table()) {
        if (vt->contains("path")) continue;  // a crate of the workspace
        if (auto pkg = TStr(vt->get("package")); !pkg.empty()) name = pkg;
      }
      const std::string purl = c.Add("crates.io", name, "", in.path);
      c.At(purl).direct = true;
      c.At(purl).dev = std::string_view(table) == "dev-dependencies";
      added.push_back(purl);
    }
  }
  return added;
}

// Gemfile.lock: GEM/GIT specs (four spaces: a gem, six: its dependency),
// DEPENDENCIES: the direct ones.
std::vector<std::string> ReadGemfileLock(const Input& in, Collector& c) {
  std::vector<std::string> added;
  std::string section;
  bool in_specs = false;
  std::string current;
  std::map<std::string, std::string> purl_of;
  std::vector<std::pair<std::string, std::string>> wants;  // purl -> name
  std::set<std::string> direct;
  for (auto line : Lines(in.content)) {
    if (line.empty()) {
      in_specs = false;
      continue;
    }
    if (line.front() != ' ') {
      section = std::string(TrimView(line));
      in_specs = false;
      continue;
    }
    const std::size_t indent = line.find_first_not_of(' ');
    std::string_view body = TrimView(line);
    if (section == "DEPENDENCIES" && indent == 2) {
      auto w = Words(body);
      std::string name(w.empty() ? std::string_view() : w[0]);
      if (!name.empty() && name.back() == '!') name.pop_back();
      direct.insert(name);
      continue;
    }
    if (section != "GEM" && section != "GIT") continue;
    if (indent == 2) {
      in_specs = body == "specs:";
      continue;
    }
    if (!in_specs) continue;
    const auto open = body.find(" (");
    const std::string name(body.substr(0, open));
    if (indent == 4) {
      if (open == std::string_view::npos) continue;
      std::string version(body.substr(open + 2, body.find(')', open) - open - 2));
      // "1.15.4-x86_64-linux": the platform is not part of the version.
      if (auto dash = version.find('-'); dash != std::string::npos) version.resize(dash);
      current = c.Add("RubyGems", name, version, in.path);
      purl_of[name] = current;
      added.push_back(current);
    } else if (indent == 6 && !current.empty()) {
      wants.emplace_back(current, name);
    }
  }
  for (const auto& [from, name] : wants) {
    if (auto f = purl_of.find(name); f != purl_of.end()) c.Edge(from, f->second);
  }
  c.MarkDirect(added, direct, {}, Identity);
  return added;
}

// Gemfile without a lock: `gem "name"` lines (group :development/:test: dev).
std::vector<std::string> ReadGemfile(const Input& in, Collector& c) {
  std::vector<std::string> added;
  int dev_depth = 0, depth = 0;
  for (auto line : Lines(in.content)) {
    auto body = TrimView(line);
    if (body.rfind("group ", 0) == 0 && body.find(" do") != std::string_view::npos) {
      ++depth;
      if (body.find(":development") != std::string_view::npos ||
          body.find(":test") != std::string_view::npos) {
        dev_depth = depth;
      }
      continue;
    }
    if (body == "end" && depth > 0) {
      if (dev_depth == depth) dev_depth = 0;
      --depth;
      continue;
    }
    if (body.rfind("gem ", 0) != 0) continue;
    auto q = body.find_first_of("\"'", 4);
    if (q == std::string_view::npos) continue;
    auto e = body.find(body[q], q + 1);
    if (e == std::string_view::npos) continue;
    const std::string purl = c.Add("RubyGems", body.substr(q + 1, e - q - 1), "", in.path);
    c.At(purl).direct = true;
    c.At(purl).dev = dev_depth > 0;
    added.push_back(purl);
  }
  return added;
}

namespace {

std::set<std::string> ComposerNames(const Json& j, const char* key) {
  std::set<std::string> out;
  auto it = j.find(key);
  if (it == j.end() || !it->is_object()) return out;
  for (auto d = it->begin(); d != it->end(); ++d) {
    const std::string& n = d.key();
    if (n.find('/') != std::string::npos) out.insert(n);  // not php, ext-*, lib-*
  }
  return out;
}

}  // namespace

// composer.lock: "packages" and "packages-dev"; direct from composer.json.
std::vector<std::string> ReadComposerLock(const Input& in, Collector& c) {
  std::vector<std::string> added;
  auto j = ParseJsonInput(in, c);
  if (!j) return added;
  std::map<std::string, std::string> purl_of;
  std::vector<std::pair<std::string, std::set<std::string>>> wants;
  for (const char* section : {"packages", "packages-dev"}) {
    auto s = j->find(section);
    if (s == j->end() || !s->is_array()) continue;
    for (const auto& p : *s) {
      if (!p.is_object() || !p.contains("name") || !p["name"].is_string()) continue;
      const std::string name = p["name"];
      const std::string version = StripV(p.value("version", std::string()));
      if (version.empty() || version.rfind("dev-", 0) == 0) continue;
      const std::string purl = c.Add("Packagist", name, version, in.path);
      auto& comp = c.At(purl);
      if (std::string_view(section) == "packages-dev") comp.dev = true;
      if (p.contains("license") && p["license"].is_array()) {
        for (const auto& l : p["license"]) {
          if (l.is_string()) comp.licenses.insert(l.get<std::string>());
        }
      }
      if (p.contains("dist") && p["dist"].is_object()) {
        const std::string sha = p["dist"].value("shasum", std::string());
        if (sha.size() == 40) comp.hashes["SHA-1"] = sha;
      }
      purl_of[name] = purl;
      added.push_back(purl);
      wants.emplace_back(purl, ComposerNames(p, "require"));
    }
  }
  for (const auto& [from, names] : wants) {
    for (const auto& n : names) {
      if (auto f = purl_of.find(n); f != purl_of.end()) c.Edge(from, f->second);
    }
  }
  std::set<std::string> prod, dev;
  if (const auto* manifest = in.Sibling("composer.json")) {
    Json m = Json::parse(*manifest, nullptr, false);
    if (m.is_object()) {
      prod = ComposerNames(m, "require");
      dev = ComposerNames(m, "require-dev");
    }
  }
  c.MarkDirect(added, prod, dev, Identity);
  return added;
}

std::vector<std::string> ReadComposerJson(const Input& in, Collector& c) {
  std::vector<std::string> added;
  auto j = ParseJsonInput(in, c);
  if (!j) return added;
  for (const char* key : {"require", "require-dev"}) {
    for (const auto& n : ComposerNames(*j, key)) {
      const std::string purl = c.Add("Packagist", n, "", in.path);
      c.At(purl).direct = true;
      c.At(purl).dev = std::string_view(key) == "require-dev";
      added.push_back(purl);
    }
  }
  return added;
}

namespace {

// pom.xml, read with expat: properties, dependencyManagement versions and
// the dependencies (direct; Maven resolves the rest at build time).
struct PomReader {
  std::vector<std::string> path;  // element names from the root
  std::string text;
  std::map<std::string, std::string> props;
  struct Dep {
    std::string group, artifact, version, scope;
    bool managed = false;
  };
  std::vector<Dep> deps;
  Dep cur;
  std::string project_version, parent_version, project_group, parent_group;
  int depth_limit_hit = 0;

  std::string Joined(std::size_t from) const {
    std::string s;
    for (std::size_t i = from; i < path.size(); ++i) s += (i > from ? "/" : "") + path[i];
    return s;
  }
  static void Start(void* self, const XML_Char* name, const XML_Char**) {
    auto* r = static_cast<PomReader*>(self);
    r->path.emplace_back(name);
    r->text.clear();
    if (r->path.size() > 256) r->depth_limit_hit = 1;
    const std::string p = r->Joined(0);
    if (p == "project/dependencies/dependency" ||
        p == "project/dependencyManagement/dependencies/dependency") {
      r->cur = Dep();
      r->cur.managed = p.find("dependencyManagement") != std::string::npos;
    }
  }
  static void End(void* self, const XML_Char*) {
    auto* r = static_cast<PomReader*>(self);
    const std::string p = r->Joined(0);
    const std::string value(TrimView(r->text));
    if (p.rfind("project/properties/", 0) == 0 && r->path.size() == 3) r->props[r->path[2]] = value;
    if (p == "project/version") r->project_version = value;
    if (p == "project/groupId") r->project_group = value;
    if (p == "project/parent/version") r->parent_version = value;
    if (p == "project/parent/groupId") r->parent_group = value;
    const bool in_dep = p.rfind("project/dependencies/dependency/", 0) == 0 ||
                        p.rfind("project/dependencyManagement/dependencies/dependency/", 0) == 0;
    if (in_dep) {
      const std::string& leaf = r->path.back();
      if (leaf == "groupId") r->cur.group = value;
      if (leaf == "artifactId") r->cur.artifact = value;
      if (leaf == "version") r->cur.version = value;
      if (leaf == "scope") r->cur.scope = value;
    }
    if (p == "project/dependencies/dependency" ||
        p == "project/dependencyManagement/dependencies/dependency") {
      r->deps.push_back(r->cur);
    }
    r->path.pop_back();
    r->text.clear();
  }
  static void Text(void* self, const XML_Char* s, int len) {
    auto* r = static_cast<PomReader*>(self);
    if (r->text.size() < 4096) r->text.append(s, static_cast<std::size_t>(len));
  }
  std::string Resolve(std::string v) const {
    for (int i = 0; i < 8; ++i) {
      const auto open = v.find("${");
      if (open == std::string::npos) break;
      const auto close = v.find('}', open);
      if (close == std::string::npos) break;
      const std::string key = v.substr(open + 2, close - open - 2);
      std::string value;
      if (key == "project.version" || key == "version") {
        value = project_version.empty() ? parent_version : project_version;
      } else if (key == "project.groupId") {
        value = project_group.empty() ? parent_group : project_group;
      } else if (auto f = props.find(key); f != props.end()) {
        value = f->second;
      } else {
        return {};  // from a parent POM: unknown here
      }
      v.replace(open, close - open + 1, value);
    }
    return v.find("${") == std::string::npos ? v : std::string();
  }
};

}  // namespace

std::vector<std::string> ReadPom(const Input& in, Collector& c) {
  std::vector<std::string> added;
  PomReader r;
  std::unique_ptr<XML_ParserStruct, void (*)(XML_Parser)> parser(XML_ParserCreate(nullptr),
                                                                 XML_ParserFree);
  XML_SetUserData(parser.get(), &r);
  XML_SetElementHandler(parser.get(), PomReader::Start, PomReader::End);
  XML_SetCharacterDataHandler(parser.get(), PomReader::Text);
  if (XML_Parse(parser.get(), in.content.data(), static_cast<int>(in.content.size()), 1) ==
          XML_STATUS_ERROR ||
      r.depth_limit_hit) {
    c.Warn(in.path, std::string("malformed XML: ") +
                        (r.depth_limit_hit ? "nested too deeply"
                                           : XML_ErrorString(XML_GetErrorCode(parser.get()))) +
                        " (line " + std::to_string(XML_GetCurrentLineNumber(parser.get())) + ")");
    return added;
  }
  std::map<std::string, std::string> managed;
  for (const auto& d : r.deps) {
    if (d.managed) managed[r.Resolve(d.group) + ":" + r.Resolve(d.artifact)] = r.Resolve(d.version);
  }
  for (const auto& d : r.deps) {
    if (d.managed || d.scope == "import") continue;
    const std::string ga = r.Resolve(d.group) + ":" + r.Resolve(d.artifact);
    if (ga.front() == ':' || ga.back() == ':') continue;
    std::string version = r.Resolve(d.version);
    if (version.empty()) {
      if (auto f = managed.find(ga); f != managed.end()) version = f->second;
    }
    if (!version.empty() && (version.front() == '[' || version.front() == '(')) version.clear();
    const std::string purl = c.Add("Maven", ga, version, in.path);
    c.At(purl).direct = true;
    c.At(purl).dev = d.scope == "test";
    added.push_back(purl);
  }
  return added;
}

// gradle.lockfile: "group:artifact:version=configuration,..." lines.
std::vector<std::string> ReadGradleLock(const Input& in, Collector& c) {
  std::vector<std::string> added;
  std::string build;
  for (const char* name : {"build.gradle", "build.gradle.kts"}) {
    if (const auto* b = in.Sibling(name)) build += *b;
  }
  for (auto line : Lines(in.content)) {
    line = TrimView(line);
    if (line.empty() || line.front() == '#' || line.rfind("empty=", 0) == 0) continue;
    const auto eq = line.find('=');
    const std::string coords(line.substr(0, eq));
    const std::string configs(eq == std::string_view::npos ? std::string_view()
                                                           : line.substr(eq + 1));
    const auto c1 = coords.find(':'), c2 = coords.rfind(':');
    if (c1 == std::string::npos || c1 == c2) continue;
    const std::string ga = coords.substr(0, c2);
    const std::string purl = c.Add("Maven", ga, coords.substr(c2 + 1), in.path);
    bool all_test = !configs.empty();
    std::size_t start = 0;
    while (start < configs.size()) {
      auto comma = configs.find(',', start);
      auto conf = configs.substr(start, comma == std::string::npos ? comma : comma - start);
      if (conf.rfind("test", 0) != 0) all_test = false;
      if (comma == std::string::npos) break;
      start = comma + 1;
    }
    c.At(purl).dev = all_test;
    c.At(purl).direct = build.find(ga) != std::string::npos;
    added.push_back(purl);
  }
  return added;
}

// NuGet packages.lock.json: per target framework, each package Direct or
// Transitive with its resolved version and content hash.
std::vector<std::string> ReadNuGetLock(const Input& in, Collector& c) {
  std::vector<std::string> added;
  auto j = ParseJsonInput(in, c);
  if (!j) return added;
  auto frameworks = j->find("dependencies");
  if (frameworks == j->end() || !frameworks->is_object()) return added;
  for (auto fw = frameworks->begin(); fw != frameworks->end(); ++fw) {
    if (!fw->is_object()) continue;
    std::map<std::string, std::string> purl_of;  // lower-case name -> purl
    auto lower = [](std::string s) {
      for (auto& ch : s) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
      return s;
    };
    for (auto p = fw->begin(); p != fw->end(); ++p) {
      if (!p->is_object()) continue;
      const std::string type = p->value("type", std::string());
      const std::string version = p->value("resolved", std::string());
      if (type == "Project" || version.empty()) continue;
      const std::string purl = c.Add("NuGet", p.key(), version, in.path);
      auto& comp = c.At(purl);
      if (type == "Direct") comp.direct = true;
      const std::string hash = p->value("contentHash", std::string());
      if (auto hex = Base64ToHex(hash); hex.size() == 128) comp.hashes["SHA-512"] = hex;
      purl_of[lower(p.key())] = purl;
      added.push_back(purl);
    }
    for (auto p = fw->begin(); p != fw->end(); ++p) {
      if (!p->is_object() || !p->contains("dependencies") || !(*p)["dependencies"].is_object())
        continue;
      auto from = purl_of.find(lower(p.key()));
      if (from == purl_of.end()) continue;
      for (auto d = (*p)["dependencies"].begin(); d != (*p)["dependencies"].end(); ++d) {
        if (auto f = purl_of.find(lower(d.key())); f != purl_of.end())
          c.Edge(from->second, f->second);
      }
    }
  }
  return added;
}

namespace {

// A small reader of Elixir terms as mix.lock writes them: maps, tuples,
// lists, strings, atoms and keyword pairs.
struct Term {
  enum Kind { kMap, kTuple, kList, kString, kAtom, kOther } kind = kOther;
  std::string text;         // string contents or atom name
  std::vector<Term> items;  // tuple/list items; map: key, value, key, value...
};

class TermParser {
 public:
  explicit TermParser(std::string_view s) : s_(s) {}
  bool Parse(Term& out, int depth = 0) {
    Skip();
    if (pos_ >= s_.size() || depth > 64) return false;
    const char ch = s_[pos_];
    if (ch == '%' && pos_ + 1 < s_.size() && s_[pos_ + 1] == '{') {
      pos_ += 2;
      out.kind = Term::kMap;
      return Items(out, '}', depth, true);
    }
    if (ch == '{') {
      ++pos_;
      out.kind = Term::kTuple;
      return Items(out, '}', depth, false);
    }
    if (ch == '[') {
      ++pos_;
      out.kind = Term::kList;
      return Items(out, ']', depth, false);
    }
    if (ch == '"') {
      out.kind = Term::kString;
      ++pos_;
      while (pos_ < s_.size() && s_[pos_] != '"') {
        if (s_[pos_] == '\\' && pos_ + 1 < s_.size()) ++pos_;
        out.text += s_[pos_++];
      }
      if (pos_ >= s_.size()) return false;
      ++pos_;
      return true;
    }
    if (ch == ':') {
      ++pos_;
      out.kind = Term::kAtom;
      out.text = Bare();
      return !out.text.empty();
    }
    out.kind = Term::kOther;
    out.text = Bare();
    return !out.text.empty();
  }

 private:
  std::string Bare() {
    const std::size_t b = pos_;
    while (pos_ < s_.size() &&
           (std::isalnum(static_cast<unsigned char>(s_[pos_])) || s_[pos_] == '_' ||
            s_[pos_] == '.' || s_[pos_] == '?' || s_[pos_] == '!')) {
      ++pos_;
    }
    return std::string(s_.substr(b, pos_ - b));
  }
  void Skip() {
    while (pos_ < s_.size()) {
      if (std::isspace(static_cast<unsigned char>(s_[pos_]))) {
        ++pos_;
      } else if (s_[pos_] == '#') {
        while (pos_ < s_.size() && s_[pos_] != '\n') ++pos_;
      } else {
        break;
      }
    }
  }
  bool Items(Term& out, char close, int depth, bool map) {
    while (true) {
      Skip();
      if (pos_ >= s_.size()) return false;
      if (s_[pos_] == close) {
        ++pos_;
        return true;
      }
      Term item;
      if (!Parse(item, depth + 1)) return false;
      Skip();
      // Keyword pair "key: value" (the ':' follows a bare word or string),
      // or a map's "key => value".
      if (pos_ < s_.size() && s_[pos_] == ':') {
        ++pos_;
        Term value;
        if (!Parse(value, depth + 1)) return false;
        Term pair;
        pair.kind = Term::kTuple;
        item.kind = item.kind == Term::kOther ? Term::kAtom : item.kind;
        pair.items = {std::move(item), std::move(value)};
        if (map) {
          out.items.push_back(std::move(pair.items[0]));
          out.items.push_back(std::move(pair.items[1]));
        } else {
          out.items.push_back(std::move(pair));
        }
      } else if (pos_ + 1 < s_.size() && s_[pos_] == '=' && s_[pos_ + 1] == '>') {
        pos_ += 2;
        Term value;
        if (!Parse(value, depth + 1)) return false;
        out.items.push_back(std::move(item));
        out.items.push_back(std::move(value));
      } else {
        out.items.push_back(std::move(item));
      }
      Skip();
      if (pos_ < s_.size() && s_[pos_] == ',') ++pos_;
    }
  }
  std::string_view s_;
  std::size_t pos_ = 0;
};

}  // namespace

// mix.lock: %{"name" => {:hex, :name, "version", "inner hash", [tools],
// [deps], "hexpm", "outer hash"}}; direct ones from mix.exs.
std::vector<std::string> ReadMixLock(const Input& in, Collector& c) {
  std::vector<std::string> added;
  Term root;
  TermParser parser(in.content);
  if (!parser.Parse(root) || root.kind != Term::kMap) {
    c.Warn(in.path, "not a mix.lock map; skipped");
    return added;
  }
  std::map<std::string, std::string> purl_of;
  std::vector<std::pair<std::string, std::vector<std::string>>> wants;
  for (std::size_t i = 0; i + 1 < root.items.size(); i += 2) {
    const Term& v = root.items[i + 1];
    if (v.kind != Term::kTuple || v.items.size() < 4 || v.items[0].text != "hex") continue;
    const std::string name = v.items[1].text, version = v.items[2].text;
    if (name.empty() || version.empty()) continue;
    const std::string purl = c.Add("Hex", name, version, in.path);
    if (v.items.size() >= 8 && v.items[7].kind == Term::kString && v.items[7].text.size() == 64) {
      c.At(purl).hashes["SHA-256"] = v.items[7].text;
    }
    purl_of[name] = purl;
    added.push_back(purl);
    std::vector<std::string> deps;
    if (v.items.size() >= 6 && v.items[5].kind == Term::kList) {
      for (const auto& d : v.items[5].items) {
        if (d.kind == Term::kTuple && !d.items.empty()) deps.push_back(d.items[0].text);
      }
    }
    wants.emplace_back(purl, std::move(deps));
  }
  for (const auto& [from, names] : wants) {
    for (const auto& n : names) {
      if (auto f = purl_of.find(n); f != purl_of.end()) c.Edge(from, f->second);
    }
  }
  std::set<std::string> direct, dev;
  if (const auto* mix = in.Sibling("mix.exs")) {
    // {:name, "~> 1.0"} / {:name, ..., only: :test}
    for (std::size_t p = mix->find("{:"); p != std::string::npos; p = mix->find("{:", p + 2)) {
      std::size_t e = p + 2;
      while (e < mix->size() &&
             (std::isalnum(static_cast<unsigned char>((*mix)[e])) || (*mix)[e] == '_'))
        ++e;
      const std::string name = mix->substr(p + 2, e - p - 2);
      const auto close = mix->find('}', e);
      const std::string rest = mix->substr(e, close == std::string::npos ? 0 : close - e);
      const bool only_dev =
          rest.find("only:") != std::string::npos && rest.find(":prod") == std::string::npos;
      (only_dev ? dev : direct).insert(name);
    }
  }
  c.MarkDirect(added, direct, dev, Identity);
  for (const auto& p : added) {
    auto& comp = c.At(p);
    if (dev.count(comp.name) && !direct.count(comp.name)) comp.dev = true;
  }
  return added;
}

}  // namespace ps::security::deps
