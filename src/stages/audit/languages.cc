#include "stages/audit/languages.h"

#include <algorithm>
#include <array>
#include <cctype>
#include <string>
#include <vector>

namespace ps::stages::audit {

namespace {

using T = LangType;

struct ByName {
  std::string_view key;
  Language lang;
};

// Sorted by key for binary search.
constexpr std::array kExtensions = {
    ByName{".astro", {"Astro", T::kMarkup}},
    ByName{".bash", {"Shell", T::kProgramming}},
    ByName{".c", {"C", T::kProgramming}},
    ByName{".cc", {"C++", T::kProgramming}},
    ByName{".cjs", {"JavaScript", T::kProgramming}},
    ByName{".clj", {"Clojure", T::kProgramming}},
    ByName{".cpp", {"C++", T::kProgramming}},
    ByName{".cs", {"C#", T::kProgramming}},
    ByName{".cshtml", {"HTML+Razor", T::kMarkup}},
    ByName{".css", {"CSS", T::kMarkup}},
    ByName{".cts", {"TypeScript", T::kProgramming}},
    ByName{".cxx", {"C++", T::kProgramming}},
    ByName{".dart", {"Dart", T::kProgramming}},
    ByName{".dockerfile", {"Dockerfile", T::kProgramming}},
    ByName{".ejs", {"EJS", T::kMarkup}},
    ByName{".erb", {"HTML+ERB", T::kMarkup}},
    ByName{".erl", {"Erlang", T::kProgramming}},
    ByName{".ex", {"Elixir", T::kProgramming}},
    ByName{".exs", {"Elixir", T::kProgramming}},
    ByName{".fs", {"F#", T::kProgramming}},
    ByName{".go", {"Go", T::kProgramming}},
    ByName{".gradle", {"Gradle", T::kData}},
    ByName{".graphql", {"GraphQL", T::kData}},
    ByName{".groovy", {"Groovy", T::kProgramming}},
    ByName{".h", {"C", T::kProgramming}},
    ByName{".hbs", {"Handlebars", T::kMarkup}},
    ByName{".hcl", {"HCL", T::kProgramming}},
    ByName{".heex", {"HTML+EEX", T::kMarkup}},
    ByName{".hpp", {"C++", T::kProgramming}},
    ByName{".hs", {"Haskell", T::kProgramming}},
    ByName{".htm", {"HTML", T::kMarkup}},
    ByName{".html", {"HTML", T::kMarkup}},
    ByName{".ini", {"INI", T::kData}},
    ByName{".ipynb", {"Jupyter Notebook", T::kMarkup}},
    ByName{".java", {"Java", T::kProgramming}},
    ByName{".jinja", {"Jinja", T::kMarkup}},
    ByName{".jinja2", {"Jinja", T::kMarkup}},
    ByName{".js", {"JavaScript", T::kProgramming}},
    ByName{".json", {"JSON", T::kData}},
    ByName{".jsx", {"JavaScript", T::kProgramming}},
    ByName{".kt", {"Kotlin", T::kProgramming}},
    ByName{".kts", {"Kotlin", T::kProgramming}},
    ByName{".less", {"Less", T::kMarkup}},
    ByName{".liquid", {"Liquid", T::kMarkup}},
    ByName{".lua", {"Lua", T::kProgramming}},
    ByName{".m", {"Objective-C", T::kProgramming}},
    ByName{".md", {"Markdown", T::kProse}},
    ByName{".mdx", {"MDX", T::kMarkup}},
    ByName{".mjs", {"JavaScript", T::kProgramming}},
    ByName{".mts", {"TypeScript", T::kProgramming}},
    ByName{".php", {"PHP", T::kProgramming}},
    ByName{".pl", {"Perl", T::kProgramming}},
    ByName{".proto", {"Protocol Buffer", T::kData}},
    ByName{".ps1", {"PowerShell", T::kProgramming}},
    ByName{".pug", {"Pug", T::kMarkup}},
    ByName{".py", {"Python", T::kProgramming}},
    ByName{".pyi", {"Python", T::kProgramming}},
    ByName{".r", {"R", T::kProgramming}},
    ByName{".rake", {"Ruby", T::kProgramming}},
    ByName{".rb", {"Ruby", T::kProgramming}},
    ByName{".rs", {"Rust", T::kProgramming}},
    ByName{".rst", {"reStructuredText", T::kProse}},
    ByName{".sass", {"Sass", T::kMarkup}},
    ByName{".scala", {"Scala", T::kProgramming}},
    ByName{".scss", {"SCSS", T::kMarkup}},
    ByName{".sh", {"Shell", T::kProgramming}},
    ByName{".sql", {"SQL", T::kData}},
    ByName{".svelte", {"Svelte", T::kMarkup}},
    ByName{".swift", {"Swift", T::kProgramming}},
    ByName{".tf", {"HCL", T::kProgramming}},
    ByName{".toml", {"TOML", T::kData}},
    ByName{".ts", {"TypeScript", T::kProgramming}},
    ByName{".tsx", {"TSX", T::kProgramming}},
    ByName{".twig", {"Twig", T::kMarkup}},
    ByName{".txt", {"Text", T::kProse}},
    ByName{".vue", {"Vue", T::kMarkup}},
    ByName{".xml", {"XML", T::kData}},
    ByName{".yaml", {"YAML", T::kData}},
    ByName{".yml", {"YAML", T::kData}},
    ByName{".zig", {"Zig", T::kProgramming}},
    ByName{".zsh", {"Shell", T::kProgramming}},
};

constexpr std::array kFileNames = {
    ByName{"Brewfile", {"Ruby", T::kProgramming}},
    ByName{"Containerfile", {"Dockerfile", T::kProgramming}},
    ByName{"Dockerfile", {"Dockerfile", T::kProgramming}},
    ByName{"GNUmakefile", {"Makefile", T::kProgramming}},
    ByName{"Gemfile", {"Ruby", T::kProgramming}},
    ByName{"Jenkinsfile", {"Groovy", T::kProgramming}},
    ByName{"Makefile", {"Makefile", T::kProgramming}},
    ByName{"Rakefile", {"Ruby", T::kProgramming}},
    ByName{"Vagrantfile", {"Ruby", T::kProgramming}},
    ByName{"makefile", {"Makefile", T::kProgramming}},
};

template <std::size_t N>
const Language* Find(const std::array<ByName, N>& table, std::string_view key) {
  auto it = std::lower_bound(table.begin(), table.end(), key,
                             [](const ByName& b, std::string_view k) { return b.key < k; });
  if (it != table.end() && it->key == key) return &it->lang;
  return nullptr;
}

std::string_view BaseName(std::string_view path) {
  auto slash = path.rfind('/');
  return slash == std::string_view::npos ? path : path.substr(slash + 1);
}

// Whether any folder of `path` (not its last segment, the file) is one of
// `names` (sorted). One pass over the path, one binary search per folder.
template <std::size_t N>
bool AnyFolderIn(std::string_view path, const std::array<std::string_view, N>& names) {
  std::size_t start = 0;
  while (true) {
    auto slash = path.find('/', start);
    if (slash == std::string_view::npos) return false;  // the last segment is the file
    if (std::binary_search(names.begin(), names.end(), path.substr(start, slash - start)))
      return true;
    start = slash + 1;
  }
}

constexpr std::array<std::string_view, 27> kVendorFolders = {
    ".angular",     ".astro",        ".bundle",
    ".gradle",      ".mvn",          ".next",
    ".nuxt",        ".pnpm-store",   ".svelte-kit",
    ".terraform",   ".turbo",        ".venv",
    ".yarn",        "Carthage",      "Pods",
    "__pycache__",  "_build",        "bower_components",
    "coverage",     "deps",          "jspm_packages",
    "node_modules", "site-packages", "third-party",
    "third_party",  "vendor",        "venv",
};
// Not bin/: Rails and many others keep scripts there; .NET's build output is
// bin/Debug and bin/Release (below), and binaries are skipped by content.
constexpr std::array<std::string_view, 8> kGeneratedFolders = {
    ".output", "__generated__", "build", "dist", "generated", "obj", "out", "target",
};

std::string Lower(std::string_view s) {
  std::string out(s);
  for (auto& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

}  // namespace

const Language* LanguageOf(std::string_view path) {
  const std::string_view base = BaseName(path);
  if (const Language* l = Find(kFileNames, base)) return l;
  if (base.rfind("Dockerfile.", 0) == 0) return Find(kFileNames, "Dockerfile");
  const auto dot = base.rfind('.');
  if (dot == std::string_view::npos || dot == 0) return nullptr;
  return Find(kExtensions, Lower(base.substr(dot)));
}

const Language* LanguageOfShebang(std::string_view head) {
  if (head.substr(0, 2) != "#!") return nullptr;
  std::string_view line = head.substr(
      2, head.find('\n') == std::string_view::npos ? std::string_view::npos : head.find('\n') - 2);
  // The interpreter: the program's base name, or what `env [-S] X` runs.
  std::vector<std::string_view> words;
  for (std::size_t i = 0; i < line.size();) {
    while (i < line.size() && (line[i] == ' ' || line[i] == '\t' || line[i] == '\r')) ++i;
    std::size_t j = i;
    while (j < line.size() && line[j] != ' ' && line[j] != '\t' && line[j] != '\r') ++j;
    if (j > i) words.push_back(line.substr(i, j - i));
    i = j;
  }
  std::string_view prog;
  for (std::size_t w = 0; w < words.size(); ++w) {
    std::string_view b = words[w].substr(
        words[w].rfind('/') == std::string_view::npos ? 0 : words[w].rfind('/') + 1);
    if (b == "env" || (!b.empty() && b[0] == '-')) continue;
    prog = b;
    break;
  }
  // python3.12 -> python, node -> node.
  while (!prog.empty() &&
         (std::isdigit(static_cast<unsigned char>(prog.back())) || prog.back() == '.'))
    prog.remove_suffix(1);
  static constexpr std::array<std::pair<std::string_view, Language>, 14> kInterpreters = {{
      {"ash", {"Shell", T::kProgramming}},
      {"bash", {"Shell", T::kProgramming}},
      {"bun", {"TypeScript", T::kProgramming}},
      {"dash", {"Shell", T::kProgramming}},
      {"deno", {"TypeScript", T::kProgramming}},
      {"node", {"JavaScript", T::kProgramming}},
      {"perl", {"Perl", T::kProgramming}},
      {"php", {"PHP", T::kProgramming}},
      {"python", {"Python", T::kProgramming}},
      {"ruby", {"Ruby", T::kProgramming}},
      {"sh", {"Shell", T::kProgramming}},
      {"ts-node", {"TypeScript", T::kProgramming}},
      {"tsx", {"TypeScript", T::kProgramming}},
      {"zsh", {"Shell", T::kProgramming}},
  }};
  for (const auto& [name, lang] : kInterpreters) {
    if (prog == name) return &lang;
  }
  return nullptr;
}

bool IsVendored(std::string_view path) {
  if (AnyFolderIn(path, kVendorFolders)) return true;
  const std::string_view base = BaseName(path);
  return base.rfind("jquery", 0) == 0 && EndsWith(base, ".js");
}

bool IsDocumentation(std::string_view path) {
  const std::string_view first = path.substr(0, path.find('/'));
  if (first.size() < path.size()) {
    for (std::string_view f :
         {"docs", "doc", "Docs", "Documentation", "examples", "example", "samples"}) {
      if (first == f) return true;
    }
  }
  const std::string_view base = BaseName(path);
  auto starts_ci = [&](std::string_view prefix) {
    if (base.size() < prefix.size()) return false;
    for (std::size_t i = 0; i < prefix.size(); ++i) {
      if (std::tolower(static_cast<unsigned char>(base[i])) != prefix[i]) return false;
    }
    return true;
  };
  for (std::string_view p : {"readme", "changelog", "license", "licence", "contributing", "authors",
                             "notice", "copying"}) {
    if (starts_ci(p)) return true;
  }
  return false;
}

bool IsGenerated(std::string_view path, std::string_view head) {
  const std::string_view base = BaseName(path);
  for (std::string_view lock :
       {"package-lock.json", "npm-shrinkwrap.json", "yarn.lock", "pnpm-lock.yaml", "bun.lockb",
        "bun.lock", "Cargo.lock", "poetry.lock", "Pipfile.lock", "uv.lock", "go.sum",
        "composer.lock", "Gemfile.lock", "mix.lock", "packages.lock.json", "gradle.lockfile",
        "deno.lock", "flake.lock"}) {
    if (base == lock) return true;
  }
  for (std::string_view suffix :
       {".min.js", ".min.css", ".map", ".pb.go", "_pb2.py", "_pb2_grpc.py", ".pb.cc", ".pb.h",
        "_grpc.pb.go", ".g.dart", ".designer.cs", ".generated.ts", ".d.ts"}) {
    if (EndsWith(base, suffix)) return true;
  }
  if (AnyFolderIn(path, kGeneratedFolders)) return true;
  if (path.find("bin/Debug/") != std::string_view::npos ||
      path.find("bin/Release/") != std::string_view::npos) {
    return true;
  }
  const std::string_view first = head.substr(0, std::min<std::size_t>(head.size(), 1024));
  if (first.find("Code generated") != std::string_view::npos &&
      first.find("DO NOT EDIT") != std::string_view::npos) {
    return true;
  }
  if (first.find("@generated") != std::string_view::npos) return true;
  // Minified JavaScript or CSS: very long lines.
  if ((EndsWith(base, ".js") || EndsWith(base, ".css")) && head.size() >= 4096) {
    std::size_t lines = 1;
    for (char c : head) lines += c == '\n';
    if (head.size() / lines > 110) return true;
  }
  return false;
}

bool LooksBinary(std::string_view head) {
  return head.substr(0, std::min<std::size_t>(head.size(), 8000)).find('\0') !=
         std::string_view::npos;
}

}  // namespace ps::stages::audit
