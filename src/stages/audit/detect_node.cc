// Node.js, Deno and Bun projects: package.json, lock files, version files,
// framework configs.
#include <algorithm>
#include <array>
#include <cctype>

#include "stages/audit/audit.h"

namespace ps::stages::audit {

namespace {

// Most specific first: a Next.js app also depends on react.
constexpr std::array kFrameworks = {
    FrameworkRule{"next", "Next.js", "web", 3000, 0.95},
    FrameworkRule{"nuxt", "Nuxt", "web", 3000, 0.95},
    FrameworkRule{"@remix-run/node", "Remix", "web", 3000, 0.9},
    FrameworkRule{"@remix-run/serve", "Remix", "web", 3000, 0.9},
    FrameworkRule{"@react-router/dev", "React Router", "web", 3000, 0.9},
    FrameworkRule{"@sveltejs/kit", "SvelteKit", "web", 3000, 0.9},
    FrameworkRule{"astro", "Astro", "static", 4321, 0.9},
    FrameworkRule{"@angular/core", "Angular", "static", 4200, 0.9},
    FrameworkRule{"@nestjs/core", "NestJS", "web", 3000, 0.95},
    FrameworkRule{"fastify", "Fastify", "web", 3000, 0.9},
    FrameworkRule{"hono", "Hono", "web", 3000, 0.85},
    FrameworkRule{"koa", "Koa", "web", 3000, 0.85},
    FrameworkRule{"express", "Express", "web", 3000, 0.85},
    FrameworkRule{"@grpc/grpc-js", "gRPC", "grpc", 50051, 0.8},
};

struct BackingRule {
  const char* dep;
  const char* service;
};
constexpr std::array kBacking = {
    BackingRule{"pg", "postgres"},
    BackingRule{"postgres", "postgres"},
    BackingRule{"pg-promise", "postgres"},
    BackingRule{"@neondatabase/serverless", "postgres"},
    BackingRule{"mysql", "mysql"},
    BackingRule{"mysql2", "mysql"},
    BackingRule{"redis", "redis"},
    BackingRule{"ioredis", "redis"},
    BackingRule{"@redis/client", "redis"},
    BackingRule{"bullmq", "redis"},
    BackingRule{"bull", "redis"},
    BackingRule{"mongodb", "mongodb"},
    BackingRule{"mongoose", "mongodb"},
    BackingRule{"amqplib", "rabbitmq"},
    BackingRule{"amqp-connection-manager", "rabbitmq"},
    BackingRule{"kafkajs", "kafka"},
    BackingRule{"@confluentinc/kafka-javascript", "kafka"},
    BackingRule{"@elastic/elasticsearch", "elasticsearch"},
    BackingRule{"@opensearch-project/opensearch", "elasticsearch"},
    BackingRule{"memcached", "memcached"},
    BackingRule{"memjs", "memcached"},
    BackingRule{"@aws-sdk/client-s3", "s3"},
    BackingRule{"aws-sdk", "s3"},
    BackingRule{"nats", "nats"},
};

struct TestRule {
  const char* dep;
  const char* name;
};
constexpr std::array kTests = {
    TestRule{"vitest", "vitest"}, TestRule{"jest", "jest"},
    TestRule{"mocha", "mocha"},   TestRule{"ava", "ava"},
    TestRule{"karma", "karma"},   TestRule{"jasmine", "jasmine"},
    TestRule{"tap", "tap"},       TestRule{"@playwright/test", "playwright"},
};

// The line of `"key"` in a JSON text, for evidence.
int KeyLine(const std::string& text, const std::string& key) {
  auto pos = text.find("\"" + key + "\"");
  return pos == std::string::npos ? 0 : LineOf(text, pos);
}

std::string Trim(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == '\r' || s.back() == ' ')) s.pop_back();
  while (!s.empty() && (s.front() == ' ' || s.front() == 'v')) s.erase(0, 1);
  return s;
}

// Walks up from `dir` to the repository root; first hit of `base`.
std::optional<std::string> FindUp(const RepoIndex& idx, std::string dir, const std::string& base) {
  while (true) {
    std::string p = JoinPath(dir, base);
    if (idx.Has(p)) return p;
    if (dir == "." || dir.empty()) return std::nullopt;
    dir = DirOf(dir);
  }
}

std::string RunScript(const std::string& pm, const std::string& script) {
  if (pm == "npm")
    return script == "start" || script == "test" ? "npm " + script : "npm run " + script;
  if (pm == "bun") return "bun run " + script;
  return pm + " " + script;  // yarn build, pnpm build
}

// Nx projects (project.json): applications are services, libraries are
// libraries; what they are comes from their executors and their entry point's
// imports, the dependencies from the workspace's root package.json.
void DetectNx(RepoIndex& idx, Services& out) {
  if (idx.Named("nx.json").empty()) return;
  const std::string nx_root = DirOf(idx.Named("nx.json").front());
  std::map<std::string, std::string> root_deps;
  const std::string root_pkg = JoinPath(nx_root, "package.json");
  if (idx.Has(root_pkg)) {
    if (auto pkg = idx.ReadJson(root_pkg)) {
      for (const char* section : {"dependencies", "devDependencies"}) {
        if (!pkg->contains(section) || !(*pkg)[section].is_object()) continue;
        for (const auto& [k, v] : (*pkg)[section].items())
          root_deps[k] = v.is_string() ? v.get<std::string>() : "";
      }
    }
  }
  std::string pm = "npm";
  for (const auto& [lock, manager] : std::vector<std::pair<std::string, std::string>>{
           {"pnpm-lock.yaml", "pnpm"}, {"yarn.lock", "yarn"}, {"bun.lockb", "bun"}}) {
    if (idx.Has(JoinPath(nx_root, lock))) pm = manager;
  }
  const std::string nx = pm == "npm" ? "npx nx" : pm == "bun" ? "bunx nx" : pm + " nx";
  for (const auto& path : idx.Named("project.json")) {
    auto doc = idx.ReadJson(path);
    if (!doc || !doc->contains("name") || !(*doc)["name"].is_string()) continue;
    auto text = idx.Read(path);
    const std::string root = DirOf(path);
    const std::string name = (*doc)["name"].get<std::string>();
    const Json targets = doc->contains("targets") && (*doc)["targets"].is_object()
                             ? (*doc)["targets"]
                             : Json::object();
    auto executor = [&](const char* target) -> std::string {
      if (!targets.contains(target) || !targets[target].is_object()) return "";
      return targets[target].value("executor", "");
    };
    auto option = [&](const char* target, const char* key) -> Json {
      if (!targets.contains(target) || !targets[target].is_object()) return nullptr;
      const Json& t = targets[target];
      if (!t.contains("options") || !t["options"].is_object()) return nullptr;
      return t["options"].value(key, Json());
    };
    Service& s = ServiceAt(out, root);
    s.name = name;
    s.package_id = name;
    if (doc->contains("implicitDependencies") && (*doc)["implicitDependencies"].is_array()) {
      for (const auto& d : (*doc)["implicitDependencies"]) {
        if (d.is_string())
          s.uses.emplace_back(d.get<std::string>(),
                              Evidence{path, KeyLine(*text, "implicitDependencies"),
                                       "implicitDependencies: " + d.get<std::string>()});
      }
    }
    const Evidence at{path, KeyLine(*text, "projectType"), "nx project " + name};
    if (doc->value("projectType", "") != "application") {
      s.deployable = false;
      s.language.Add("TypeScript", 0.6, at);
      continue;
    }
    s.package_manager.Add(pm, 0.85, {path, 0, "Nx workspace at " + nx_root});
    const bool ts = idx.Has(JoinPath(nx_root, "tsconfig.base.json")) ||
                    idx.Has(JoinPath(nx_root, "tsconfig.json")) ||
                    idx.Has(JoinPath(root, "tsconfig.app.json")) ||
                    idx.Has(JoinPath(root, "tsconfig.json"));
    s.language.Add(ts ? "TypeScript" : "JavaScript", 0.8, {path, 0, "Nx project"});
    const std::string build = executor("build"), serve = executor("serve");
    auto ex_ev = [&](const std::string& target, const std::string& ex) {
      return Evidence{path, KeyLine(*text, ex), target + ": " + ex};
    };
    // What the entry point imports names a server framework.
    std::string entry;
    if (option("build", "main").is_string()) entry = option("build", "main").get<std::string>();
    const FrameworkRule* fw = nullptr;
    if (!entry.empty()) {
      if (auto t = idx.Read(entry)) {
        for (const auto& f : kFrameworks) {
          const std::string dep = f.dep;
          if (t->find("'" + dep + "'") != std::string::npos ||
              t->find("\"" + dep + "\"") != std::string::npos) {
            fw = &f;
            break;
          }
        }
      }
    }
    if (build.rfind("@nx/next", 0) == 0) {
      s.framework.Add("Next.js", 0.9, ex_ev("build", build));
      s.kind.Add("web", 0.9, ex_ev("build", build));
      s.port.Add(3000, 0.3, {path, 0, "Next.js default port"});
      s.start_command.Add(nx + " start " + name, 0.6, ex_ev("build", build));
    } else if (build.find("angular") != std::string::npos) {
      s.framework.Add("Angular", 0.9, ex_ev("build", build));
      s.kind.Add("static", 0.85, ex_ev("build", build));
    } else if (build.rfind("@nx/vite", 0) == 0 || build.rfind("@nx/webpack", 0) == 0 ||
               build.rfind("@nx/rspack", 0) == 0) {
      const bool node = option("build", "target") == "node" || fw;
      if (node && fw) {
        s.framework.Add(fw->name, 0.85, {entry, 0, std::string("imports ") + fw->dep});
        s.kind.Add(fw->kind, 0.8, {entry, 0, std::string("imports ") + fw->dep});
      } else {
        std::string spa = root_deps.count("react")    ? "React (Vite)"
                          : root_deps.count("vue")    ? "Vue (Vite)"
                          : root_deps.count("svelte") ? "Svelte (Vite)"
                                                      : "Vite";
        if (build.rfind("@nx/vite", 0) != 0) spa = spa.substr(0, spa.find(" (")) + " (webpack)";
        s.framework.Add(spa, 0.8, ex_ev("build", build));
        s.kind.Add("static", 0.8, ex_ev("build", build));
      }
    } else if (fw) {
      s.framework.Add(fw->name, 0.85, {entry, 0, std::string("imports ") + fw->dep});
      s.kind.Add(fw->kind, 0.8, {entry, 0, std::string("imports ") + fw->dep});
      s.port.Add(fw->port, 0.3, {entry, 0, std::string(fw->name) + " default port"});
    } else if (serve.find("node") != std::string::npos) {
      s.kind.Add("worker", 0.5, ex_ev("serve", serve));
    }
    if (option("serve", "port").is_number_integer()) {
      s.port.Add(option("serve", "port").get<int>(), 0.7,
                 {path, KeyLine(*text, "\"port\""), "serve.options.port"});
    }
    if (!build.empty()) s.build_command.Add(nx + " build " + name, 0.9, ex_ev("build", build));
    if (!executor("test").empty())
      s.test_command.Add(nx + " test " + name, 0.9, ex_ev("test", executor("test")));
    for (const auto& [needle, tf] : std::vector<std::pair<std::string, std::string>>{
             {"@nx/jest", "jest"}, {"@nx/vite:test", "vitest"}, {"@nx/vitest", "vitest"}}) {
      if (executor("test").rfind(needle, 0) == 0)
        s.test_framework.Add(tf, 0.9, ex_ev("test", needle));
    }
    // A node program is started from its bundle; anything else by nx.
    const Json out_path = option("build", "outputPath");
    if (out_path.is_string() && (serve.find("node") != std::string::npos || fw) &&
        s.kind.value() != "static") {
      s.start_command.Add("node " + out_path.get<std::string>() + "/main.js", 0.7,
                          {path, KeyLine(*text, "outputPath"), "build output"});
    } else if (!serve.empty() && s.kind.value() != "static") {
      s.start_command.Add(nx + " serve " + name, 0.5, ex_ev("serve", serve));
    }
    if (auto found = FindUp(idx, root, ".nvmrc")) {
      if (auto v = idx.Read(*found)) {
        std::string ver = Trim(*v);
        if (!ver.empty() && ver.size() < 40)
          s.runtime_version.Add(Json{{"runtime", "node"}, {"version", ver}}, 0.9, {*found, 1, ver});
      }
    }
    // Backing services from the workspace's dependencies that the entry point imports.
    if (!entry.empty()) {
      if (auto t = idx.Read(entry)) {
        for (const auto& b : kBacking) {
          const std::string dep = b.dep;
          if (root_deps.count(dep) && (t->find("'" + dep + "'") != std::string::npos ||
                                       t->find("\"" + dep + "\"") != std::string::npos))
            s.AddBacking(b.service, {entry, 0, "imports " + dep});
        }
      }
    }
  }
}

}  // namespace

void DetectNode(RepoIndex& idx, Services& out) {
  // Workspace roots (a root package.json with "workspaces", pnpm-workspace.yaml)
  // are not services unless they are apps themselves.
  for (const auto& path : idx.Named("package.json")) {
    auto parsed = idx.ReadJson(path);
    if (!parsed) continue;
    const Json& pkg = *parsed;
    auto text = idx.Read(path);  // cached: for line numbers
    const std::string root = DirOf(path);
    std::map<std::string, std::string> deps;  // name -> version spec
    for (const char* section :
         {"dependencies", "devDependencies", "peerDependencies", "optionalDependencies"}) {
      if (!pkg.contains(section) || !pkg[section].is_object()) continue;
      for (const auto& [k, v] : pkg[section].items())
        deps[k] = v.is_string() ? v.get<std::string>() : "";
    }
    Json scripts =
        pkg.contains("scripts") && pkg["scripts"].is_object() ? pkg["scripts"] : Json::object();
    auto script = [&](const char* name) -> std::string {
      return scripts.contains(name) && scripts[name].is_string() ? scripts[name].get<std::string>()
                                                                 : "";
    };
    const bool workspace_root =
        pkg.contains("workspaces") || idx.Has(JoinPath(root, "pnpm-workspace.yaml"));
    // An Nx workspace's root package.json holds every project's dependencies:
    // tooling, the projects are its project.json files (DetectNx).
    if (idx.Has(JoinPath(root, "nx.json")) && !idx.Has(JoinPath(root, "project.json")) &&
        !idx.Named("project.json").empty()) {
      continue;
    }

    // Another language already owns this folder: package.json only builds
    // its assets (Rails, Django, Laravel...).
    auto existing = out.find(root);
    if (existing != out.end() && !existing->second.language.empty() &&
        existing->second.language.value() != "JavaScript" &&
        existing->second.language.value() != "TypeScript") {
      bool server = false;
      for (const auto& f : kFrameworks) {
        if (std::string(f.kind) != "static" && deps.count(f.dep)) server = true;
      }
      if (!server) continue;
    }

    // Next.js in the dependencies of a package that neither configures nor
    // runs it is a library integrating with it (next-auth helpers, UI kits).
    bool runs_next = false;
    for (const char* cfg :
         {"next.config.js", "next.config.mjs", "next.config.ts", "next.config.cjs"})
      runs_next = runs_next || idx.Has(JoinPath(root, cfg));
    for (const auto& [k, v] : scripts.items()) {
      if (v.is_string() && (v.get<std::string>().rfind("next", 0) == 0 ||
                            v.get<std::string>().find(" next ") != std::string::npos))
        runs_next = true;
    }
    const FrameworkRule* fw = nullptr;
    for (const auto& f : kFrameworks) {
      if (std::string(f.dep) == "next" && !runs_next) continue;
      if (deps.count(f.dep)) {
        fw = &f;
        break;
      }
    }
    std::string spa;
    if (!fw && deps.count("vite")) {
      if (deps.count("vue"))
        spa = "Vue (Vite)";
      else if (deps.count("react"))
        spa = "React (Vite)";
      else if (deps.count("svelte"))
        spa = "Svelte (Vite)";
      else
        spa = "Vite";
    }
    const bool has_start = !script("start").empty();
    // A package whose entry serves HTTP itself (node:http's createServer and
    // listen, no framework): a web service run by node.
    std::string serving_entry;
    if (!fw && spa.empty() && !has_start) {
      std::vector<std::string> entries;
      if (pkg.value("main", Json()).is_string()) entries.push_back(pkg["main"].get<std::string>());
      for (const char* e : {"server.js", "index.js", "app.js", "main.js"}) entries.push_back(e);
      for (auto e : entries) {
        while (e.rfind("./", 0) == 0) e = e.substr(2);
        if (e.empty() || e.find("..") != std::string::npos) continue;
        const std::string p = JoinPath(root, e);
        if (!idx.Has(p)) continue;
        if (auto src = idx.Read(p); src && src->find("createServer(") != std::string::npos &&
                                    src->find(".listen(") != std::string::npos) {
          serving_entry = e;
          break;
        }
      }
    }
    bool deployable = fw || !spa.empty() || has_start || !serving_entry.empty();
    // A package of a workspace with nothing to run or build (no start, dev,
    // serve, build or preview script, no Dockerfile) is a library, whatever
    // framework it integrates with.
    if (!workspace_root && deployable && !has_start && script("dev").empty() &&
        script("serve").empty() && script("build").empty() && script("preview").empty() &&
        !idx.Has(JoinPath(root, "Dockerfile")) && root != ".") {
      bool in_workspace = false;
      for (std::string a = DirOf(root);; a = DirOf(a)) {
        if (idx.Has(JoinPath(a, "pnpm-workspace.yaml")) || idx.Has(JoinPath(a, "turbo.json")) ||
            idx.Has(JoinPath(a, "lerna.json")) || idx.Has(JoinPath(a, "nx.json"))) {
          in_workspace = true;
        }
        if (auto w = idx.Read(JoinPath(a, "package.json"));
            w && w->find("\"workspaces\"") != std::string::npos) {
          in_workspace = true;
        }
        if (in_workspace || a == ".") break;
      }
      if (in_workspace) deployable = false;
    }
    if (workspace_root && !fw && spa.empty()) {
      // The monorepo's root: tooling, not a service.
      continue;
    }
    Service& s = ServiceAt(out, root);
    if (pkg.contains("name") && pkg["name"].is_string() && s.name.empty()) {
      std::string n = pkg["name"].get<std::string>();
      auto slash = n.rfind('/');
      s.name = slash == std::string::npos ? n : n.substr(slash + 1);
    }
    if (!deployable) s.deployable = false;
    if (workspace_root) s.workspace_root = true;
    if (!serving_entry.empty()) {
      const Evidence ev{JoinPath(root, serving_entry), 0, "createServer(...).listen()"};
      s.kind.Add("web", 0.75, ev);
      s.start_command.Add("node " + serving_entry, 0.75, ev);
    }
    if (pkg.contains("name") && pkg["name"].is_string())
      s.package_id = pkg["name"].get<std::string>();
    for (const auto& [dep, spec] : deps) {
      s.uses.emplace_back(dep, Evidence{path, KeyLine(*text, dep), dep + ": " + spec});
    }

    const bool ts = deps.count("typescript") || idx.Has(JoinPath(root, "tsconfig.json"));
    s.language.Add(
        ts ? "TypeScript" : "JavaScript", ts ? 0.8 : 0.7,
        {ts && idx.Has(JoinPath(root, "tsconfig.json")) ? JoinPath(root, "tsconfig.json") : path,
         ts ? KeyLine(*text, "typescript") : 0, ts ? "typescript" : "package.json"});
    if (fw) {
      s.framework.Add(fw->name, fw->confidence,
                      {path, KeyLine(*text, fw->dep),
                       std::string("\"") + fw->dep + "\": \"" + deps[fw->dep] + "\""});
      s.kind.Add(fw->kind, fw->confidence, {path, KeyLine(*text, fw->dep), fw->dep});
      s.port.Add(fw->port, 0.3,
                 {path, KeyLine(*text, fw->dep), std::string(fw->name) + " default port"});
    } else if (!spa.empty()) {
      s.framework.Add(spa, 0.8, {path, KeyLine(*text, "vite"), "vite"});
      s.kind.Add("static", 0.8, {path, KeyLine(*text, "vite"), "single-page app built by vite"});
    } else if (has_start) {
      s.kind.Add("web", 0.4, {path, KeyLine(*text, "start"), script("start")});
    }
    // SvelteKit and Astro outputs depend on their adapters.
    if (fw && std::string(fw->name) == "SvelteKit" && deps.count("@sveltejs/adapter-static")) {
      s.kind.Add("static", 0.95,
                 {path, KeyLine(*text, "@sveltejs/adapter-static"), "adapter-static"});
    }
    if (fw && std::string(fw->name) == "Astro" && (deps.count("@astrojs/node"))) {
      s.kind.Add("web", 0.95,
                 {path, KeyLine(*text, "@astrojs/node"), "server output via @astrojs/node"});
    }

    // Package manager: the packageManager field, then the nearest lock file.
    std::string pm;
    if (pkg.contains("packageManager") && pkg["packageManager"].is_string()) {
      std::string v = pkg["packageManager"].get<std::string>();
      pm = v.substr(0, v.find('@'));
      s.package_manager.Add(pm, 0.95, {path, KeyLine(*text, "packageManager"), v});
    }
    for (const auto& [lock, manager] :
         std::vector<std::pair<std::string, std::string>>{{"pnpm-lock.yaml", "pnpm"},
                                                          {"yarn.lock", "yarn"},
                                                          {"bun.lockb", "bun"},
                                                          {"bun.lock", "bun"},
                                                          {"package-lock.json", "npm"},
                                                          {"npm-shrinkwrap.json", "npm"}}) {
      if (auto found = FindUp(idx, root, lock)) {
        s.package_manager.Add(manager, found->rfind(root, 0) == 0 || root == "." ? 0.9 : 0.8,
                              {*found, 0, "lock file"});
        if (pm.empty()) pm = manager;
      }
    }
    if (pm.empty()) {
      pm = "npm";
      s.package_manager.Add("npm", 0.3, {path, 0, "no lock file: npm by default"});
    }

    // Runtime version.
    if (pkg.contains("engines") && pkg["engines"].is_object() && pkg["engines"].contains("node") &&
        pkg["engines"]["node"].is_string()) {
      s.runtime_version.Add(
          Json{{"runtime", "node"}, {"version", pkg["engines"]["node"].get<std::string>()}}, 0.8,
          {path, KeyLine(*text, "engines"), "engines.node"});
    }
    for (const char* f : {".nvmrc", ".node-version"}) {
      if (auto found = FindUp(idx, root, f)) {
        if (auto v = idx.Read(*found)) {
          std::string ver = Trim(*v);
          if (!ver.empty() && ver.size() < 40) {
            s.runtime_version.Add(Json{{"runtime", "node"}, {"version", ver}}, 0.9,
                                  {*found, 1, ver});
          }
        }
      }
    }
    if (auto found = FindUp(idx, root, ".tool-versions")) {
      if (auto v = idx.Read(*found)) {
        std::size_t pos = 0;
        int line = 1;
        while (pos < v->size()) {
          auto eol = v->find('\n', pos);
          std::string l = v->substr(pos, eol == std::string::npos ? std::string::npos : eol - pos);
          if (l.rfind("nodejs ", 0) == 0 || l.rfind("node ", 0) == 0) {
            std::string ver = Trim(l.substr(l.find(' ') + 1));
            s.runtime_version.Add(Json{{"runtime", "node"}, {"version", ver}}, 0.85,
                                  {*found, line, l});
          }
          if (eol == std::string::npos) break;
          pos = eol + 1;
          ++line;
        }
      }
    }

    // Commands from scripts.
    if (!script("build").empty()) {
      s.build_command.Add(RunScript(pm, "build"), 0.9,
                          {path, KeyLine(*text, "build"), script("build")});
    }
    if (has_start) {
      s.start_command.Add(RunScript(pm, "start"), 0.9,
                          {path, KeyLine(*text, "start"), script("start")});
    } else if (fw && std::string(fw->name) == "Nuxt") {
      s.start_command.Add("node .output/server/index.mjs", 0.6,
                          {path, KeyLine(*text, "nuxt"), "Nuxt server output"});
    } else if (pkg.contains("main") && pkg["main"].is_string() && fw &&
               std::string(fw->kind) != "static") {
      s.start_command.Add("node " + pkg["main"].get<std::string>(), 0.5,
                          {path, KeyLine(*text, "main"), "main"});
    }
    // A port given on the start command: `next start -p 4000`, `--port=8080`,
    // `PORT=5000 node server.js`.
    if (has_start) {
      const std::string cmd = script("start");
      for (const char* flag : {"-p ", "--port ", "--port=", "PORT="}) {
        auto at = cmd.find(flag);
        if (at == std::string::npos || (at > 0 && std::string(flag) == "-p " && cmd[at - 1] != ' '))
          continue;
        std::size_t i = at + std::string(flag).size(), j = i;
        while (j < cmd.size() && std::isdigit(static_cast<unsigned char>(cmd[j]))) ++j;
        if (j > i && j - i <= 5) {
          const int port = std::stoi(cmd.substr(i, j - i));
          if (port > 0 && port < 65536)
            s.port.Add(port, 0.8, {path, KeyLine(*text, "start"), "start: " + cmd});
          break;
        }
      }
    }
    const std::string test = script("test");
    if (!test.empty() && test.find("no test specified") == std::string::npos) {
      s.test_command.Add(RunScript(pm, "test"), 0.9, {path, KeyLine(*text, "test"), test});
      if (test.find("node --test") != std::string::npos) {
        s.test_framework.Add("node:test", 0.9, {path, KeyLine(*text, "test"), test});
      }
    }
    for (const auto& t : kTests) {
      if (deps.count(t.dep)) {
        s.test_framework.Add(t.name, test.find(t.name) != std::string::npos ? 0.95 : 0.7,
                             {path, KeyLine(*text, t.dep), t.dep});
      }
    }

    // Backing services from client libraries.
    for (const auto& b : kBacking) {
      if (deps.count(b.dep)) s.AddBacking(b.service, {path, KeyLine(*text, b.dep), b.dep});
    }

    // Migrations.
    if (deps.count("prisma") || deps.count("@prisma/client")) {
      // The schema: package.json's prisma.schema, prisma/schema.prisma, or
      // the first one under the package (src/prisma/schema.prisma...).
      std::string schema = JoinPath(root, "prisma/schema.prisma");
      if (pkg.contains("prisma") && pkg["prisma"].is_object() &&
          pkg["prisma"].value("schema", Json()).is_string()) {
        std::string rel = pkg["prisma"]["schema"].get<std::string>();
        while (rel.rfind("./", 0) == 0) rel = rel.substr(2);
        schema = JoinPath(root, rel);
      } else if (!idx.Has(schema)) {
        for (const auto& p : idx.Under(root, "schema.prisma")) {
          if (p.find("node_modules/") == std::string::npos) {
            schema = p;
            break;
          }
        }
      }
      s.migrations.Add(Json{{"tool", "prisma"},
                            {"dir", JoinPath(DirOf(schema), "migrations")},
                            {"command", "npx prisma migrate deploy"}},
                       0.9, {path, KeyLine(*text, "prisma"), "prisma"});
      if (auto sch = idx.Read(schema)) {
        // url = env("DATABASE_URL"): read at run time, no default.
        for (std::size_t at = sch->find("env(\""); at != std::string::npos;
             at = sch->find("env(\"", at + 5)) {
          const auto end = sch->find('"', at + 5);
          if (end == std::string::npos) break;
          const std::string var = sch->substr(at + 5, end - at - 5);
          if (IsEnvName(var))
            s.AddEnv(var, true, false, std::nullopt,
                     {schema, LineOf(*sch, at), LineTextAt(*sch, at)});
        }
        for (const auto& [provider, svc] :
             std::vector<std::pair<std::string, std::string>>{{"\"postgresql\"", "postgres"},
                                                              {"\"mysql\"", "mysql"},
                                                              {"\"mongodb\"", "mongodb"},
                                                              {"\"cockroachdb\"", "postgres"}}) {
          auto pos = sch->find("provider = " + provider);
          if (pos == std::string::npos) pos = sch->find("provider  = " + provider);
          if (pos != std::string::npos)
            s.AddBacking(svc, {schema, LineOf(*sch, pos), "datasource provider " + provider});
        }
      }
    }
    if (deps.count("drizzle-kit")) {
      s.migrations.Add(Json{{"tool", "drizzle"},
                            {"dir", JoinPath(root, "drizzle")},
                            {"command", "npx drizzle-kit migrate"}},
                       0.8, {path, KeyLine(*text, "drizzle-kit"), "drizzle-kit"});
    }
    if (deps.count("knex")) {
      s.migrations.Add(
          Json{{"tool", "knex"},
               {"dir", JoinPath(root, "migrations")},
               {"command", "npx knex migrate:latest"}},
          idx.Has(JoinPath(root, "knexfile.js")) || idx.Has(JoinPath(root, "knexfile.ts")) ? 0.85
                                                                                           : 0.6,
          {path, KeyLine(*text, "knex"), "knex"});
    }
    if (deps.count("sequelize-cli") || idx.Has(JoinPath(root, ".sequelizerc"))) {
      s.migrations.Add(Json{{"tool", "sequelize"},
                            {"dir", JoinPath(root, "migrations")},
                            {"command", "npx sequelize-cli db:migrate"}},
                       0.8, {path, KeyLine(*text, "sequelize"), "sequelize-cli"});
    }
    if (deps.count("typeorm")) {
      s.migrations.Add(Json{{"tool", "typeorm"},
                            {"dir", JoinPath(root, "src/migrations")},
                            {"command", "npx typeorm migration:run"}},
                       0.5, {path, KeyLine(*text, "typeorm"), "typeorm"});
    }
  }

  DetectNx(idx, out);

  // TypeScript path aliases ("@acme/lib/*": ["libs/lib/src/*"]): a folder
  // the packages import by an alias is a library of the repository, named by
  // that alias, even without a package.json of its own (its code, its Prisma
  // schema, the variables it reads are then known to whoever imports it).
  for (const char* name : {"tsconfig.base.json", "tsconfig.json"}) {
    for (const auto& path : idx.Named(name)) {
      auto parsed = idx.ReadJson(path);
      if (!parsed || !parsed->is_object()) continue;
      const Json co = parsed->value("compilerOptions", Json::object());
      if (!co.is_object() || !co.contains("paths") || !co["paths"].is_object()) continue;
      const std::string base_dir = DirOf(path);
      for (const auto& [alias, targets] : co["paths"].items()) {
        if (!targets.is_array() || targets.empty() || !targets[0].is_string()) continue;
        std::string a = alias, dir = targets[0].get<std::string>();
        if (a.size() > 2 && a.compare(a.size() - 2, 2, "/*") == 0) a = a.substr(0, a.size() - 2);
        if (dir.size() > 2 && dir.compare(dir.size() - 2, 2, "/*") == 0)
          dir = dir.substr(0, dir.size() - 2);
        while (dir.rfind("./", 0) == 0) dir = dir.substr(2);
        if (dir.size() > 4 && dir.compare(dir.size() - 4, 4, "/src") == 0)
          dir = dir.substr(0, dir.size() - 4);
        if (a.empty() || dir.empty() || dir.find("..") != std::string::npos ||
            dir.find('*') != std::string::npos)
          continue;
        dir = JoinPath(base_dir, dir);
        auto it = out.find(dir);
        if (it != out.end()) {
          if (it->second.package_id.empty()) it->second.package_id = a;
          continue;
        }
        bool has_code = false;
        for (const auto& src : idx.Sources()) {
          if (src.rfind(dir + "/", 0) == 0) {
            has_code = true;
            break;
          }
        }
        if (!has_code) continue;
        Service& lib = ServiceAt(out, dir);
        lib.deployable = false;
        lib.package_id = a;
        lib.language.Add("TypeScript", 0.6, {path, 0, "path alias " + alias});
        // Its Prisma schema, if it holds one.
        for (const auto& schema : idx.Under(dir, "schema.prisma")) {
          lib.migrations.Add(Json{{"tool", "prisma"},
                                  {"dir", JoinPath(DirOf(schema), "migrations")},
                                  {"command", "npx prisma migrate deploy"}},
                             0.85, {schema, 0, "schema.prisma"});
          if (auto sch = idx.Read(schema)) {
            for (const auto& [provider, svc] :
                 std::vector<std::pair<std::string, std::string>>{{"\"postgresql\"", "postgres"},
                                                                  {"\"mysql\"", "mysql"},
                                                                  {"\"mongodb\"", "mongodb"}}) {
              const auto pos = sch->find(provider);
              if (pos != std::string::npos)
                lib.AddBacking(svc, {schema, LineOf(*sch, pos), "datasource provider " + provider});
            }
            for (std::size_t at = sch->find("env(\""); at != std::string::npos;
                 at = sch->find("env(\"", at + 5)) {
              const auto end = sch->find('"', at + 5);
              if (end == std::string::npos) break;
              const std::string var = sch->substr(at + 5, end - at - 5);
              if (IsEnvName(var))
                lib.AddEnv(var, true, false, std::nullopt,
                           {schema, LineOf(*sch, at), LineTextAt(*sch, at)});
            }
          }
          break;
        }
      }
    }
  }

  // Deno and Bun.
  for (const char* cfg : {"deno.json", "deno.jsonc"}) {
    for (const auto& path : idx.Named(cfg)) {
      Service& s = ServiceAt(out, DirOf(path));
      s.language.Add("TypeScript", 0.8, {path, 0, "deno"});
      s.framework.Add("Deno", 0.7, {path, 0, cfg});
      s.package_manager.Add("deno", 0.9, {path, 0, cfg});
      s.kind.Add("web", 0.5, {path, 0, "deno app"});
      s.start_command.Add("deno task start", 0.5, {path, 0, cfg});
      s.test_command.Add("deno test", 0.6, {path, 0, cfg});
      s.test_framework.Add("deno test", 0.6, {path, 0, cfg});
      s.port.Add(8000, 0.3, {path, 0, "Deno.serve default port"});
    }
  }
}

}  // namespace ps::stages::audit
