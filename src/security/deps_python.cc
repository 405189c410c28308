// Python: pip requirements, poetry.lock, Pipfile.lock, uv.lock, pyproject.toml.
#include <cctype>

#include "security/deps_toml.h"

namespace ps::security::deps {
namespace {

std::string Norm(std::string_view n) { return NormalizePythonName(n); }

bool NameChar(char ch) {
  return std::isalnum(static_cast<unsigned char>(ch)) || ch == '-' || ch == '_' || ch == '.';
}

// "requests[socks]>=2.0 ; python_version>'3'" -> "requests".
std::string RequirementName(std::string_view spec) {
  std::size_t i = 0;
  while (i < spec.size() && std::isspace(static_cast<unsigned char>(spec[i]))) ++i;
  const std::size_t b = i;
  while (i < spec.size() && NameChar(spec[i])) ++i;
  return std::string(spec.substr(b, i - b));
}

// Direct names from pyproject.toml: PEP 621 and Poetry's tables.
void PyprojectNames(const std::string* text, std::set<std::string>& prod,
                    std::set<std::string>& dev) {
  if (!text) return;
  auto doc = ParseUntrustedToml(*text, "pyproject.toml");
  if (!doc) return;
  if (auto deps = (*doc)["project"]["dependencies"].as_array()) {
    for (const auto& d : *deps) {
      if (auto s = d.value<std::string>()) prod.insert(RequirementName(*s));
    }
  }
  if (auto opt = (*doc)["project"]["optional-dependencies"].as_table()) {
    for (const auto& [k, v] : *opt) {
      if (auto arr = v.as_array()) {
        for (const auto& d : *arr) {
          if (auto s = d.value<std::string>()) prod.insert(RequirementName(*s));
        }
      }
    }
  }
  if (auto groups = (*doc)["dependency-groups"].as_table()) {  // PEP 735
    for (const auto& [k, v] : *groups) {
      if (auto arr = v.as_array()) {
        for (const auto& d : *arr) {
          if (auto s = d.value<std::string>()) dev.insert(RequirementName(*s));
        }
      }
    }
  }
  auto poetry = (*doc)["tool"]["poetry"];
  if (auto t = poetry["dependencies"].as_table()) {
    for (const auto& [k, v] : *t) {
      if (k.str() != "python") prod.insert(std::string(k.str()));
    }
  }
  if (auto t = poetry["dev-dependencies"].as_table()) {
    for (const auto& [k, v] : *t) dev.insert(std::string(k.str()));
  }
  if (auto groups = poetry["group"].as_table()) {
    for (const auto& [g, body] : *groups) {
      if (auto t = body.as_table()) {
        if (auto d = (*t)["dependencies"].as_table()) {
          for (const auto& [k, v] : *d) dev.insert(std::string(k.str()));
        }
      }
    }
  }
  if (auto arr = (*doc)["tool"]["uv"]["dev-dependencies"].as_array()) {
    for (const auto& d : *arr) {
      if (auto s = d.value<std::string>()) dev.insert(RequirementName(*s));
    }
  }
}

void MarkDev(Collector& c, const std::vector<std::string>& added, const std::set<std::string>& prod,
             const std::set<std::string>& dev) {
  std::set<std::string> p, d;
  for (const auto& n : prod) p.insert(Norm(n));
  for (const auto& n : dev) d.insert(Norm(n));
  for (const auto& purl : added) {
    auto& comp = c.At(purl);
    const auto n = Norm(comp.name);
    if (d.count(n) && !p.count(n)) comp.dev = true;
  }
}

}  // namespace

// requirements.txt (and pip-compile's output, whose "# via" comments give
// the edges and tell direct from transitive).
std::vector<std::string> ReadRequirements(const Input& in, Collector& c) {
  std::vector<std::string> added;
  // Logical lines: continuations joined.
  std::vector<std::string> lines;
  std::string cur;
  std::size_t pos = 0;
  while (pos <= in.content.size()) {
    auto nl = in.content.find('\n', pos);
    std::string line =
        in.content.substr(pos, nl == std::string::npos ? std::string::npos : nl - pos);
    pos = nl == std::string::npos ? in.content.size() + 1 : nl + 1;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (!line.empty() && line.back() == '\\') {
      line.pop_back();
      cur += line + " ";
      continue;
    }
    lines.push_back(cur + line);
    cur.clear();
  }
  const bool compiled = in.content.find("# via") != std::string::npos;
  std::string last;  // purl of the last requirement (for "# via")
  std::map<std::string, std::vector<std::string>> via;  // purl -> parent names
  std::map<std::string, std::string> purl_of;           // normalized name -> purl
  for (const auto& raw : lines) {
    std::string_view line = raw;
    while (!line.empty() && std::isspace(static_cast<unsigned char>(line.front())))
      line.remove_prefix(1);
    if (line.empty()) continue;
    if (line.front() == '#') {
      if (compiled && !last.empty()) {
        // "# via flask", "# via -r requirements.in", "#   flask" (one per line)
        std::string_view body = line.substr(1);
        const auto v = body.find("via");
        if (v != std::string_view::npos &&
            body.substr(0, v).find_first_not_of(' ') == std::string_view::npos) {
          body = body.substr(v + 3);
        }
        std::size_t i = 0;
        while (i < body.size()) {
          while (i < body.size() &&
                 (std::isspace(static_cast<unsigned char>(body[i])) || body[i] == ','))
            ++i;
          const std::size_t b = i;
          while (i < body.size() && !std::isspace(static_cast<unsigned char>(body[i])) &&
                 body[i] != ',')
            ++i;
          if (i > b) via[last].emplace_back(body.substr(b, i - b));
        }
      }
      continue;
    }
    if (line.front() == '-') continue;  // options, -r, -e
    if (const auto hash = line.find(" #"); hash != std::string_view::npos)
      line = line.substr(0, hash);
    const std::string name = RequirementName(line);
    if (name.empty() || line.find("://") != std::string_view::npos) continue;
    std::string_view rest = line.substr(line.find(name) + name.size());
    if (!rest.empty() && rest.front() == '[') {
      const auto close = rest.find(']');
      rest = close == std::string_view::npos ? std::string_view() : rest.substr(close + 1);
    }
    const auto semi = rest.find(';');
    std::string_view spec = rest.substr(0, semi);
    std::string version;
    const auto eq = spec.find("==");
    if (eq != std::string_view::npos) {
      std::string_view v = spec.substr(eq + 2);
      if (!v.empty() && v.front() == '=') v.remove_prefix(1);
      std::size_t b = 0;
      while (b < v.size() && std::isspace(static_cast<unsigned char>(v[b]))) ++b;
      std::size_t e = b;
      while (e < v.size() && !std::isspace(static_cast<unsigned char>(v[e])) && v[e] != ',') ++e;
      version = std::string(v.substr(b, e - b));
      if (version.find('*') != std::string::npos) version.clear();
    }
    const std::string purl = c.Add("PyPI", name, version, in.path);
    auto& comp = c.At(purl);
    for (auto h = rest.find("--hash=sha256:"); h != std::string_view::npos;
         h = rest.find("--hash=sha256:", h + 1)) {
      std::size_t e = h + 14;
      while (e < rest.size() && std::isxdigit(static_cast<unsigned char>(rest[e]))) ++e;
      comp.hashes.emplace("SHA-256", std::string(rest.substr(h + 14, e - h - 14)));
      break;  // one per component: the first wheel's
    }
    comp.direct = !compiled;
    purl_of[Norm(name)] = purl;
    added.push_back(purl);
    last = purl;
  }
  for (const auto& [purl, parents] : via) {
    for (std::size_t i = 0; i < parents.size(); ++i) {
      const auto& p = parents[i];
      if (p == "-r" || p == "-c") {
        c.At(purl).direct = true;
        ++i;
        continue;
      }
      if (p.front() == '-' || p.find('/') != std::string::npos ||
          p.find(".in") != std::string::npos)
        continue;
      if (auto f = purl_of.find(Norm(p)); f != purl_of.end()) c.Edge(f->second, purl);
    }
  }
  if (in.path.find("dev") != std::string::npos || in.path.find("test") != std::string::npos) {
    for (const auto& p : added) c.At(p).dev = true;
  }
  return added;
}

// poetry.lock: [[package]] tables; direct ones from pyproject.toml.
std::vector<std::string> ReadPoetryLock(const Input& in, Collector& c) {
  std::vector<std::string> added;
  auto doc = LoadToml(in, c);
  if (!doc) return added;
  std::map<std::string, std::string> purl_of;
  std::vector<std::pair<std::string, std::vector<std::string>>> wants;
  if (auto pkgs = (*doc)["package"].as_array()) {
    for (const auto& node : *pkgs) {
      auto t = node.as_table();
      if (!t) continue;
      const std::string name = TStr(t->get("name")), version = TStr(t->get("version"));
      if (name.empty() || version.empty()) continue;
      const std::string purl = c.Add("PyPI", name, version, in.path);
      if (TStr(t->get("category")) == "dev") c.At(purl).dev = true;
      purl_of[Norm(name)] = purl;
      added.push_back(purl);
      std::vector<std::string> names;
      if (auto d = t->get_as<toml::table>("dependencies")) {
        for (const auto& [k, v] : *d) names.emplace_back(k.str());
      }
      wants.emplace_back(purl, std::move(names));
    }
  }
  for (const auto& [from, names] : wants) {
    for (const auto& n : names) {
      if (auto f = purl_of.find(Norm(n)); f != purl_of.end()) c.Edge(from, f->second);
    }
  }
  std::set<std::string> prod, dev;
  PyprojectNames(in.Sibling("pyproject.toml"), prod, dev);
  c.MarkDirect(added, prod, dev, Norm);
  MarkDev(c, added, prod, dev);
  return added;
}

// Pipfile.lock: "default" and "develop" maps, versions as "==1.2.3".
std::vector<std::string> ReadPipfileLock(const Input& in, Collector& c) {
  std::vector<std::string> added;
  auto j = ParseJsonInput(in, c);
  if (!j) return added;
  for (const char* section : {"default", "develop"}) {
    auto s = j->find(section);
    if (s == j->end() || !s->is_object()) continue;
    for (auto it = s->begin(); it != s->end(); ++it) {
      if (!it->is_object()) continue;
      std::string version = it->value("version", std::string());
      if (version.rfind("==", 0) == 0) version.erase(0, 2);
      const std::string purl = c.Add("PyPI", it.key(), version, in.path);
      if (std::string_view(section) == "develop") c.At(purl).dev = true;
      added.push_back(purl);
    }
  }
  std::set<std::string> prod, dev;
  if (const auto* pipfile = in.Sibling("Pipfile")) {
    if (auto doc = ParseUntrustedToml(*pipfile, "Pipfile")) {
      if (auto t = (*doc)["packages"].as_table()) {
        for (const auto& [k, v] : *t) prod.emplace(k.str());
      }
      if (auto t = (*doc)["dev-packages"].as_table()) {
        for (const auto& [k, v] : *t) dev.emplace(k.str());
      }
    }
    c.MarkDirect(added, prod, dev, Norm);
  } else {
    for (const auto& p : added) c.At(p).direct = true;
  }
  return added;
}

// uv.lock: [[package]] with dependency arrays; the project itself is the
// package whose source is editable/virtual ".".
std::vector<std::string> ReadUvLock(const Input& in, Collector& c) {
  std::vector<std::string> added;
  auto doc = LoadToml(in, c);
  if (!doc) return added;
  std::map<std::string, std::string> purl_of;
  std::vector<std::pair<std::string, std::vector<std::string>>> wants;
  std::set<std::string> prod, dev;
  auto names_of = [](const toml::array* arr, std::set<std::string>& into) {
    if (!arr) return;
    for (const auto& d : *arr) {
      if (auto t = d.as_table()) into.insert(TStr(t->get("name")));
    }
  };
  if (auto pkgs = (*doc)["package"].as_array()) {
    for (const auto& node : *pkgs) {
      auto t = node.as_table();
      if (!t) continue;
      const std::string name = TStr(t->get("name")), version = TStr(t->get("version"));
      auto source = t->get_as<toml::table>("source");
      const bool project =
          source && (TStr(source->get("editable")) == "." || TStr(source->get("virtual")) == ".");
      if (project) {
        names_of(t->get_as<toml::array>("dependencies"), prod);
        if (auto opt = t->get_as<toml::table>("optional-dependencies")) {
          for (const auto& [k, v] : *opt) names_of(v.as_array(), prod);
        }
        if (auto groups = t->get_as<toml::table>("dev-dependencies")) {
          for (const auto& [k, v] : *groups) names_of(v.as_array(), dev);
        }
        continue;
      }
      if (name.empty() || version.empty()) continue;
      const std::string purl = c.Add("PyPI", name, version, in.path);
      if (auto sdist = t->get_as<toml::table>("sdist")) {
        const std::string hash = TStr(sdist->get("hash"));
        if (hash.rfind("sha256:", 0) == 0) c.At(purl).hashes["SHA-256"] = hash.substr(7);
      }
      purl_of[Norm(name)] = purl;
      added.push_back(purl);
      std::set<std::string> names;
      names_of(t->get_as<toml::array>("dependencies"), names);
      wants.emplace_back(purl, std::vector<std::string>(names.begin(), names.end()));
    }
  }
  for (const auto& [from, names] : wants) {
    for (const auto& n : names) {
      if (auto f = purl_of.find(Norm(n)); f != purl_of.end()) c.Edge(from, f->second);
    }
  }
  c.MarkDirect(added, prod, dev, Norm);
  MarkDev(c, added, prod, dev);
  return added;
}

// pyproject.toml without a lockfile: direct components, versions unknown
// (an exact "==" pin is kept).
std::vector<std::string> ReadPyproject(const Input& in, Collector& c) {
  std::vector<std::string> added;
  std::set<std::string> prod, dev;
  if (!LoadToml(in, c)) return added;
  PyprojectNames(&in.content, prod, dev);
  for (const auto* set : {&prod, &dev}) {
    for (const auto& n : *set) {
      if (n.empty() || (set == &dev && prod.count(n))) continue;
      const std::string purl = c.Add("PyPI", n, "", in.path);
      c.At(purl).direct = true;
      c.At(purl).dev = set == &dev;
      added.push_back(purl);
    }
  }
  return added;
}

}  // namespace ps::security::deps
