#include "quality/routes.h"

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <map>
#include <set>

#include "core/fs.h"
#include "core/yaml.h"
#include "quality/coverage.h"

namespace ps::quality {

namespace {

constexpr std::size_t kMaxLine = 4096;
constexpr std::size_t kMaxRoutes = 5000;

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r'))
    s.remove_suffix(1);
  return s;
}

bool EndsWith(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

std::string BaseName(std::string_view path) {
  const auto slash = path.rfind('/');
  return std::string(slash == std::string_view::npos ? path : path.substr(slash + 1));
}

bool IdentChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
         c == '$';
}

// A string literal starting at `i` (after spaces): its text, or nullopt.
// Template literals with substitutions and over-long literals are not read.
std::optional<std::string> Literal(std::string_view line, std::size_t i) {
  while (i < line.size() && (line[i] == ' ' || line[i] == '\t')) ++i;
  if (i >= line.size()) return std::nullopt;
  const char q = line[i];
  if (q != '"' && q != '\'' && q != '`') return std::nullopt;
  std::string out;
  for (std::size_t j = i + 1; j < line.size() && out.size() < 300; ++j) {
    if (line[j] == '\\') {
      ++j;
      if (j < line.size()) out += line[j];
      continue;
    }
    if (line[j] == q) {
      if (q == '`' && out.find("${") != std::string::npos) return std::nullopt;
      return out;
    }
    out += line[j];
  }
  return std::nullopt;
}

std::string Upper(std::string s) {
  for (auto& c : s) c = static_cast<char>(c >= 'a' && c <= 'z' ? c - 32 : c);
  return s;
}

std::string JoinPath(std::string a, std::string_view b) {
  if (b.empty()) return a.empty() ? "/" : a;
  while (!a.empty() && a.back() == '/') a.pop_back();
  return a + (b.front() == '/' ? "" : "/") + std::string(b);
}

struct Out {
  std::vector<Route>& routes;
  const std::string& file;
  std::string framework;
  void Add(std::string method, std::string path, int line) {
    if (routes.size() >= kMaxRoutes || path.empty() || method.empty()) return;
    routes.push_back({std::move(method), std::move(path), framework, file, line});
  }
};

template <typename Fn>
void ForEachLine(std::string_view text, Fn fn) {
  int n = 0;
  std::size_t pos = 0;
  while (pos < text.size()) {
    std::size_t eol = text.find('\n', pos);
    if (eol == std::string_view::npos) eol = text.size();
    ++n;
    fn(text.substr(pos, std::min(eol - pos, kMaxLine)), n);
    pos = eol + 1;
  }
}

// `receiver.verb('/path'` in JavaScript/TypeScript and Go.
void MethodCalls(std::string_view text, Out& out, const std::vector<std::string>& verbs,
                 const std::set<std::string>& not_servers, bool go) {
  ForEachLine(text, [&](std::string_view line, int n) {
    for (const auto& verb : verbs) {
      const std::string needle = "." + verb + "(";
      for (std::size_t at = line.find(needle); at != std::string_view::npos;
           at = line.find(needle, at + 1)) {
        std::size_t b = at;
        while (b > 0 && (IdentChar(line[b - 1]) || line[b - 1] == '.')) --b;
        const std::string receiver(line.substr(b, at - b));
        const std::string last = receiver.substr(receiver.rfind('.') + 1);
        if (receiver.empty() || not_servers.count(last)) continue;
        auto lit = Literal(line, at + needle.size());
        if (!lit) continue;
        std::string method = Upper(verb);
        std::string path = *lit;
        if (go && (verb == "HandleFunc" || verb == "Handle")) {
          // Go 1.22 patterns: "GET /items/{id}".
          method = "ANY";
          const auto space = path.find(' ');
          if (space != std::string::npos && path.front() != '/') {
            method = path.substr(0, space);
            path = path.substr(space + 1);
          }
        }
        if (method == "ALL") method = "ANY";
        if (path.empty() || path.front() != '/') continue;
        out.Add(method, path, n);
      }
    }
  });
}

// A bare node:http server compares the request's URL with literals:
// `req.url === '/items'`, `url.pathname == "/items"`, `case '/items':` in a
// switch on the URL. A line that also compares the method with a literal
// gives it; otherwise any method.
void NodeHttp(std::string_view text, Out& out) {
  ForEachLine(text, [&](std::string_view line, int n) {
    std::string method = "ANY";
    for (const char* m : {"'GET'", "\"GET\"", "'POST'", "\"POST\"", "'PUT'", "\"PUT\"", "'DELETE'",
                          "\"DELETE\"", "'PATCH'", "\"PATCH\""}) {
      if (line.find("method") != std::string_view::npos && line.find(m) != std::string_view::npos)
        method = std::string(m).substr(1, std::strlen(m) - 2);
    }
    for (const char* subject : {"url", "pathname"}) {
      const std::string needle = subject;
      for (std::size_t at = line.find(needle); at != std::string_view::npos;
           at = line.find(needle, at + 1)) {
        if (at > 0 && IdentChar(line[at - 1]) && line[at - 1] != '.') continue;
        std::size_t i = at + needle.size();
        if (i < line.size() && IdentChar(line[i])) continue;  // `urlFor`, `urls`
        while (i < line.size() && line[i] == ' ') ++i;
        if (line.substr(i, 2) != "==") continue;
        i += line.substr(i, 3) == "===" ? 3 : 2;
        auto lit = Literal(line, i);
        if (lit && !lit->empty() && lit->front() == '/') out.Add(method, *lit, n);
      }
    }
    const auto c = Trim(line);
    if (c.substr(0, 5) == "case ") {
      auto lit = Literal(c, 5);
      if (lit && !lit->empty() && lit->front() == '/' && c.back() == ':') out.Add(method, *lit, n);
    }
  });
}

void Python(std::string_view text, Out& out) {
  ForEachLine(text, [&](std::string_view raw, int n) {
    const std::string_view line = Trim(raw);
    if (line.empty() || line.front() != '@') return;
    const auto paren = line.find('(');
    if (paren == std::string_view::npos) return;
    const std::string_view callee = line.substr(1, paren - 1);
    const auto dot = callee.rfind('.');
    if (dot == std::string_view::npos) return;
    const std::string verb(callee.substr(dot + 1));
    static const std::set<std::string> kVerbs = {"get",   "post", "put",   "delete",
                                                 "patch", "head", "route", "api_route"};
    if (!kVerbs.count(verb)) return;
    auto lit = Literal(line, paren + 1);
    if (!lit || lit->empty() || lit->front() != '/') return;
    if (verb != "route" && verb != "api_route") {
      out.Add(Upper(verb), *lit, n);
      return;
    }
    // methods=["GET", "POST"]; without it Flask routes answer GET.
    const auto m = line.find("methods");
    if (m == std::string_view::npos) {
      out.Add("GET", *lit, n);
      return;
    }
    const auto close = line.find(']', m);
    for (std::size_t i = m; i < line.size() && i < close; ++i) {
      if (line[i] != '"' && line[i] != '\'') continue;
      auto method = Literal(line, i);
      if (!method) break;
      out.Add(Upper(*method), *lit, n);
      i = line.find(line[i], i + 1);
      if (i == std::string_view::npos) break;
    }
  });
}

void Django(std::string_view text, Out& out) {
  ForEachLine(text, [&](std::string_view line, int n) {
    for (const char* call : {"path(", "re_path("}) {
      const auto at = line.find(call);
      if (at == std::string_view::npos || (at > 0 && IdentChar(line[at - 1]))) continue;
      if (line.find("include(") != std::string_view::npos) continue;  // the prefix of another file
      std::size_t q = at + std::string_view(call).size();
      while (q < line.size() && line[q] == ' ') ++q;
      if (q < line.size() && line[q] == 'r') ++q;  // r"^raw/$"
      auto lit = Literal(line, q);
      if (!lit) continue;
      std::string path = *lit;
      if (std::string_view(call) == "re_path(") {
        // Only plain patterns: ^health/$ -> /health/
        if (!path.empty() && path.front() == '^') path.erase(0, 1);
        if (!path.empty() && path.back() == '$') path.pop_back();
        if (path.find_first_of("()[]?*+\\|") != std::string::npos) continue;
      }
      out.Add("ANY", "/" + path, n);
    }
  });
}

void Rails(std::string_view text, Out& out) {
  // One entry per open block: the path prefix inside it (nesting past 64 adds nothing).
  std::vector<std::string> scopes;
  ForEachLine(text, [&](std::string_view raw, int n) {
    const std::string_view line = Trim(raw.substr(0, raw.find('#')));
    if (line.empty()) return;
    if (line == "end") {
      if (!scopes.empty()) scopes.pop_back();
      return;
    }
    const std::string prefix = scopes.empty() ? std::string() : scopes.back();
    const bool opens = EndsWith(line, " do") || line.find(" do |") != std::string_view::npos;
    auto word_then = [&](std::string_view w) {
      return line.rfind(w, 0) == 0 && line.size() > w.size() &&
             (line[w.size()] == ' ' || line[w.size()] == '(');
    };
    std::string added;
    if (word_then("namespace")) {
      const auto colon = line.find(':');
      if (colon != std::string_view::npos) {
        std::size_t e = colon + 1;
        while (e < line.size() && IdentChar(line[e])) ++e;
        added = std::string(line.substr(colon + 1, e - colon - 1));
      }
    } else if (word_then("scope")) {
      if (auto lit = Literal(line, line.find_first_of("'\"", 5))) added = *lit;
    } else if (word_then("root")) {
      out.Add("GET", prefix.empty() ? "/" : prefix, n);
    } else if (word_then("resources") || word_then("resource")) {
      const bool plural = word_then("resources");
      const auto colon = line.find(':');
      if (colon != std::string_view::npos) {
        std::size_t e = colon + 1;
        while (e < line.size() && IdentChar(line[e])) ++e;
        const std::string name(line.substr(colon + 1, e - colon - 1));
        const std::string base = JoinPath(prefix, name);
        const bool only_some = line.find("only:") != std::string_view::npos ||
                               line.find("except:") != std::string_view::npos;
        if (!only_some || line.find(":index") != std::string_view::npos ||
            line.find(":show") != std::string_view::npos) {
          out.Add("GET", base, n);
          if (plural) out.Add("GET", base + "/:id", n);
        }
        added = plural ? name + "/:" + name + "_id" : name;
      }
    } else {
      for (const char* verb : {"get", "post", "put", "patch", "delete", "match"}) {
        if (!word_then(verb)) continue;
        auto lit = Literal(line, std::string_view(verb).size() + 1);
        if (!lit) break;
        std::string path = *lit;
        const auto arrow = path.find(" =>");
        if (arrow != std::string::npos) path.erase(arrow);
        out.Add(std::string(verb) == "match" ? "ANY" : Upper(verb), JoinPath(prefix, path), n);
        break;
      }
    }
    if (opens) {
      scopes.push_back(added.empty() || scopes.size() >= 64 ? prefix : JoinPath(prefix, added));
    }
  });
}

void Spring(std::string_view text, Out& out) {
  std::string prefix;
  bool in_class = false;
  ForEachLine(text, [&](std::string_view raw, int n) {
    const std::string_view line = Trim(raw);
    if (!in_class &&
        (line.find(" class ") != std::string_view::npos || line.rfind("class ", 0) == 0)) {
      in_class = true;
      return;
    }
    static const std::vector<std::pair<std::string, std::string>> kMappings = {
        {"@GetMapping", "GET"},       {"@PostMapping", "POST"},   {"@PutMapping", "PUT"},
        {"@DeleteMapping", "DELETE"}, {"@PatchMapping", "PATCH"}, {"@RequestMapping", "ANY"}};
    for (const auto& [annotation, method] : kMappings) {
      if (line.rfind(annotation, 0) != 0) continue;
      std::string path;
      const auto paren = line.find('(');
      if (paren != std::string_view::npos) {
        std::size_t q = line.find_first_of("\"", paren);
        if (q != std::string_view::npos) {
          if (auto lit = Literal(line, q)) path = *lit;
        }
      }
      if (!in_class) {
        if (annotation == "@RequestMapping") prefix = path;
      } else {
        std::string m = method;
        if (annotation == "@RequestMapping") {
          const auto rm = line.find("RequestMethod.");
          if (rm != std::string_view::npos) {
            std::size_t e = rm + 14;
            while (e < line.size() && IdentChar(line[e])) ++e;
            m = std::string(line.substr(rm + 14, e - rm - 14));
          }
        }
        out.Add(m, JoinPath(prefix, path), n);
      }
      break;
    }
  });
}

void OpenApi(std::string_view text, Out& out) {
  Json doc;
  if (!text.empty() && Trim(text).front() == '{') {
    doc = Json::parse(text.begin(), text.end(), nullptr, false);
    if (doc.is_discarded()) return;
  } else {
    if (!YamlNestingWithinLimit(text)) return;
    try {
      const auto docs = LoadYamlStream(text);
      if (docs.empty() || !docs[0].node.IsMap()) return;
      const YAML::Node paths = docs[0].node["paths"];
      if (!paths || !paths.IsMap()) return;
      for (const auto& p : paths) {
        if (!p.first.IsScalar() || !p.second.IsMap()) continue;
        for (const auto& m : p.second) {
          if (!m.first.IsScalar()) continue;
          const std::string method = Upper(m.first.Scalar());
          static const std::set<std::string> kMethods = {"GET",   "POST", "PUT",    "DELETE",
                                                         "PATCH", "HEAD", "OPTIONS"};
          if (kMethods.count(method)) out.Add(method, p.first.Scalar(), m.first.Mark().line + 1);
        }
      }
    } catch (const YAML::Exception&) {
    }
    return;
  }
  if (!doc.is_object() || !doc.contains("paths") || !doc["paths"].is_object()) return;
  for (const auto& [path, ops] : doc["paths"].items()) {
    if (!ops.is_object()) continue;
    for (const auto& [method, op] : ops.items()) {
      const std::string m = Upper(method);
      if (m == "GET" || m == "POST" || m == "PUT" || m == "DELETE" || m == "PATCH" || m == "HEAD")
        out.Add(m, path, 0);
    }
  }
}

}  // namespace

bool MayDeclareRoutes(std::string_view path) {
  const std::string name = BaseName(path);
  if (IsTestPath(path)) return false;
  if (name == "routes.rb" || name == "urls.py") return true;
  for (const char* api : {"openapi.json", "openapi.yaml", "openapi.yml", "swagger.json",
                          "swagger.yaml", "swagger.yml"}) {
    if (name == api) return true;
  }
  for (const char* ext : {".js", ".mjs", ".cjs", ".ts", ".py", ".java", ".kt", ".go"}) {
    if (EndsWith(name, ext) && !EndsWith(name, ".d.ts") && !EndsWith(name, ".min.js")) return true;
  }
  return false;
}

std::vector<Route> FindRoutes(const std::string& path, std::string_view content) {
  std::vector<Route> routes;
  if (!MayDeclareRoutes(path)) return routes;
  const std::string name = BaseName(path);
  Out out{routes, path, ""};
  if (name.rfind("openapi.", 0) == 0 || name.rfind("swagger.", 0) == 0) {
    out.framework = "openapi";
    OpenApi(content, out);
  } else if (name == "routes.rb") {
    out.framework = "rails";
    Rails(content, out);
  } else if (name == "urls.py") {
    out.framework = "django";
    Django(content, out);
  } else if (EndsWith(name, ".py")) {
    out.framework = content.find("fastapi") != std::string_view::npos ? "fastapi" : "flask";
    Python(content, out);
  } else if (EndsWith(name, ".java") || EndsWith(name, ".kt")) {
    out.framework = "spring";
    if (content.find("Mapping") != std::string_view::npos) Spring(content, out);
  } else if (EndsWith(name, ".go")) {
    out.framework = content.find("gin-gonic") != std::string_view::npos       ? "gin"
                    : content.find("labstack/echo") != std::string_view::npos ? "echo"
                    : content.find("go-chi/chi") != std::string_view::npos    ? "chi"
                                                                              : "net/http";
    MethodCalls(content, out,
                {"GET", "POST", "PUT", "DELETE", "PATCH", "Get", "Post", "Put", "Delete", "Patch",
                 "HandleFunc", "Handle", "Any"},
                {"http", "client", "Client"}, true);
    for (auto& r : routes) r.method = Upper(r.method);
  } else {
    out.framework = content.find("fastify") != std::string_view::npos ? "fastify" : "express";
    // Calls on these are HTTP clients or test agents, not servers.
    static const std::set<std::string> kClients = {
        "axios", "http", "https", "request", "supertest",  "client", "fetch",
        "agent", "cy",   "ky",    "got",     "superagent", "$http"};
    MethodCalls(content, out, {"get", "post", "put", "delete", "patch", "head", "all"}, kClients,
                false);
    if (routes.empty() && content.find("createServer") != std::string_view::npos) {
      out.framework = "node:http";
      NodeHttp(content, out);
    }
  }
  return routes;
}

std::vector<Route> SmokeRoutes(const std::vector<Route>& routes, const std::string& health,
                               std::size_t max) {
  std::vector<Route> out;
  std::set<std::string> seen;
  auto plain = [](const std::string& p) {
    return !p.empty() && p.front() == '/' && p.find_first_of(":{}<>*()?[]$") == std::string::npos;
  };
  if (!health.empty() && plain(health)) {
    out.push_back({"GET", health, "health check", "", 0});
    seen.insert(health);
  }
  std::vector<Route> sorted = routes;
  std::sort(sorted.begin(), sorted.end(),
            [](const Route& a, const Route& b) { return a.path < b.path; });
  for (const auto& r : sorted) {
    if (out.size() >= max) break;
    if ((r.method != "GET" && r.method != "ANY") || !plain(r.path)) continue;
    if (!seen.insert(r.path).second) continue;
    Route g = r;
    g.method = "GET";
    out.push_back(std::move(g));
  }
  return out;
}

std::vector<Route> FindRoutesIn(const std::string& dir) {
  namespace fs = std::filesystem;
  std::vector<Route> routes;
  std::error_code ec;
  std::size_t files = 0;
  fs::recursive_directory_iterator it(dir, fs::directory_options::skip_permission_denied, ec), end;
  for (; !ec && it != end; it.increment(ec)) {
    const std::string name = it->path().filename().string();
    if (it->is_directory(ec)) {
      if (name == "node_modules" || name == ".venv" || name == "vendor" || name == ".git" ||
          name == "dist" || name == "build" || name == "target" || name == "__pycache__" ||
          it.depth() > 12) {
        it.disable_recursion_pending();
      }
      continue;
    }
    if (!it->is_regular_file(ec) || ++files > 20000) continue;
    const std::string rel = it->path().lexically_relative(dir).generic_string();
    if (!MayDeclareRoutes(rel) || it->file_size(ec) > (1u << 20)) continue;
    auto text = ReadFile(it->path(), 1 << 20);
    if (!text.ok()) continue;
    for (auto& r : FindRoutes(rel, *text)) routes.push_back(std::move(r));
    if (routes.size() > 5000) break;
  }
  return routes;
}

Json RoutesToJson(const std::vector<Route>& routes) {
  Json list = Json::array();
  for (const auto& r : routes) {
    Json j = {{"method", r.method}, {"path", r.path}, {"framework", r.framework}};
    if (!r.file.empty()) j["source"] = r.file + (r.line > 0 ? ":" + std::to_string(r.line) : "");
    list.push_back(std::move(j));
  }
  return list;
}

}  // namespace ps::quality
