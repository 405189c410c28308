// Container builds: a multi-stage Dockerfile per service that has none (base
// image pinned to the detected runtime version, dependency layer cached,
// non-root user, HEALTHCHECK on the detected health path), with its
// .dockerignore; a review of the Dockerfiles a repository already has.
#include <algorithm>
#include <cctype>
#include <set>
#include <sstream>

#include "security/iac.h"
#include "stages/audit/audit.h"
#include "stages/audit/dockerfile.h"
#include "stages/plan/blueprint.h"

namespace ps::stages::plan {

std::string JoinRoot(const std::string& root, const std::string& name) {
  return root.empty() || root == "." ? name : root + "/" + name;
}

namespace {

// A version spec as an image tag: exact versions stay ("20.11.1"), ranges
// become the release line they start at (">=20.0.0" -> "20", "^3.11" -> "3.11").
std::string TagOf(const std::string& spec) {
  std::size_t i = 0;
  while (i < spec.size() && !std::isdigit(static_cast<unsigned char>(spec[i]))) ++i;
  std::size_t j = i;
  while (j < spec.size() && (std::isdigit(static_cast<unsigned char>(spec[j])) || spec[j] == '.'))
    ++j;
  std::string v = spec.substr(i, j - i);
  while (!v.empty() && v.back() == '.') v.pop_back();
  if (v.empty()) return "";
  const bool range = i > 0 || spec.find_first_of("<>^~*x ,|", j) != std::string::npos;
  if (range) {
    while (v.size() > 2 && v.substr(v.size() - 2) == ".0") v.resize(v.size() - 2);
    // A range names a line, not a patch release: keep major.minor at most.
    auto first = v.find('.');
    auto second = first == std::string::npos ? first : v.find('.', first + 1);
    if (second != std::string::npos) v.resize(second);
  }
  return v;
}

std::string Quote(const std::string& s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  return out + "\"";
}

// A command in exec form when it is plain words, else through sh -c with
// exec so that the program is PID 1 and receives signals.
std::string ExecForm(const std::string& cmd) {
  if (cmd.find_first_of("$&|;<>'\"`*?()") == std::string::npos) {
    std::istringstream in(cmd);
    std::string w, out;
    while (in >> w) out += (out.empty() ? "" : ", ") + Quote(w);
    return "[" + out + "]";
  }
  return "[\"sh\", \"-c\", " + Quote("exec " + cmd) + "]";
}

std::string BaseName(const std::string& p) {
  auto s = p.rfind('/');
  return s == std::string::npos ? p : p.substr(s + 1);
}

std::string DirName(const std::string& p) {
  auto s = p.rfind('/');
  return s == std::string::npos ? "." : p.substr(0, s);
}

// The file part of "path:line".
std::string FileOf(const std::string& source) { return source.substr(0, source.find(':')); }

struct Recipe {
  std::vector<std::string> lines;
  void Add(const std::string& l) { lines.push_back(l); }
  std::string Text() const {
    std::string t;
    for (const auto& l : lines) t += l + "\n";
    return t;
  }
};

struct Runtime {
  std::string arg;    // ARG name when the version is unknown
  std::string tag;    // "" when unknown: ${arg}
  std::string where;  // where a user sets the version
};

Runtime RuntimeFor(const ServiceFacts& s, const char* arg, const char* where) {
  return {arg, TagOf(s.runtime_version), where};
}

std::string VersionRef(const Runtime& r) { return r.tag.empty() ? "${" + r.arg + "}" : r.tag; }

// busybox's static wget gives images without a shell tool an HTTP check.
constexpr const char* kWget = "busybox:1.36-musl";

std::string HealthCheck(const std::string& runtime, int port, const std::string& path) {
  const std::string url = "http://127.0.0.1:" + std::to_string(port) + path;
  std::string cmd;
  if (runtime == "node") {
    cmd =
        "[\"node\", \"-e\", " +
        Quote("fetch('" + url + "').then(r => process.exit(r.ok ? 0 : 1), () => process.exit(1))") +
        "]";
  } else if (runtime == "python") {
    cmd = "[\"python\", \"-c\", " +
          Quote("import sys, urllib.request; sys.exit(0 if urllib.request.urlopen('" + url +
                "', timeout=2).status < 400 else 1)") +
          "]";
  } else if (runtime == "ruby") {
    cmd = "[\"ruby\", \"-rnet/http\", \"-e\", " +
          Quote("exit Net::HTTP.get_response(URI('" + url + "')).is_a?(Net::HTTPSuccess)") + "]";
  } else if (runtime == "php") {
    cmd = "[\"php\", \"-r\", " +
          Quote("exit(@file_get_contents('" + url + "') === false ? 1 : 0);") + "]";
  } else {
    cmd = "[\"/usr/local/bin/wget\", \"-q\", \"-O\", \"/dev/null\", " + Quote(url) + "]";
  }
  return "HEALTHCHECK --interval=10s --timeout=3s --start-period=30s --retries=3 CMD " + cmd;
}

class Planner {
 public:
  Planner(const ServiceFacts& s, const PlanOptions& o, Blueprint& out) : s_(s), o_(o), out_(out) {}

  void Run() {
    const std::string lang = s_.language;
    const std::string pm = s_.package_manager;
    bool made = false;
    if (s_.kind == "static" &&
        (pm.empty() || pm == "npm" || pm == "yarn" || pm == "pnpm" || pm == "bun")) {
      made = Static();
    } else if (pm == "npm" || pm == "yarn" || pm == "pnpm" || pm == "bun") {
      made = Node();
    } else if (lang == "Python") {
      made = Python();
    } else if (lang == "Go") {
      made = Go();
    } else if (pm == "maven" || pm == "gradle") {
      made = Jvm();
    } else if (pm == "dotnet") {
      made = Dotnet();
    } else if (lang == "Rust") {
      made = Rust();
    } else if (lang == "Ruby") {
      made = Ruby();
    } else if (lang == "PHP") {
      made = Php();
    }
    if (!made) {
      Find("PLAN003", "warning",
           "no container recipe for " + (lang.empty() ? std::string("this service") : lang) +
               (s_.framework.empty() ? "" : " (" + s_.framework + ")"),
           "write a Dockerfile in " + JoinRoot(s_.root, "") +
               " and run the plan again; it will "
               "be reviewed instead",
           "");
      return;
    }
    const std::string path = JoinRoot(s_.root, "Dockerfile");
    out_.files[path] = Header() + r_.Text();
    out_.files[path + ".dockerignore"] = DockerIgnore();
  }

 private:
  void Find(const std::string& id, const std::string& sev, const std::string& msg,
            const std::string& fix, const std::string& file, int line = 0) {
    out_.findings.push_back({id, sev, s_.name, msg, fix, file, line});
  }

  std::string Header() const {
    return "# syntax=docker/dockerfile:1\n"
           "# " +
           s_.name +
           ": generated by `prodsprint plan` from the audit (see plan.json).\n"
           "# Build from the repository's root:  docker build -f " +
           JoinRoot(s_.root, "Dockerfile") + " -t " + o_.project + "/" + Slug(s_.name) + " .\n";
  }

  std::string DockerIgnore() const {
    std::string t =
        "# What the image build does not need (BuildKit reads <Dockerfile>.dockerignore).\n"
        ".git\n.github\n.prodsprint\n**/.env\n**/.env.*\n!**/.env.example\n**/*.log\n"
        "**/.DS_Store\n**/coverage\n";
    const std::string lang = s_.language;
    if (s_.package_manager == "npm" || s_.package_manager == "yarn" ||
        s_.package_manager == "pnpm" || s_.package_manager == "bun") {
      t += "**/node_modules\n**/.next/cache\n**/.turbo\n";
    }
    if (lang == "Python")
      t += "**/__pycache__\n**/*.pyc\n**/.venv\n**/.pytest_cache\n**/.mypy_cache\n";
    if (lang == "Rust" || s_.package_manager == "maven") t += "**/target\n";
    if (s_.package_manager == "gradle") t += "**/.gradle\n**/build\n";
    if (s_.package_manager == "dotnet") t += "**/bin\n**/obj\n";
    if (lang == "Ruby") t += "**/tmp\n**/log\n**/vendor/bundle\n";
    if (lang == "PHP") t += "**/vendor\n";
    return t;
  }

  // The port and health check lines shared by every recipe.
  void Serve(const std::string& runtime) {
    if (s_.port) {
      r_.Add("ENV PORT=" + std::to_string(*s_.port));
      r_.Add("EXPOSE " + std::to_string(*s_.port));
    } else if (s_.kind == "web" || s_.kind == "grpc") {
      Find("PLAN004", "warning", "the port the service listens on was not found",
           "make the service listen on $PORT, or state it (EXPOSE in a Dockerfile, a listen "
           "call, or server.port); the image then gets EXPOSE and a health check",
           "");
    }
    if (!s_.healthcheck.empty() && s_.port && s_.kind != "grpc") {
      r_.Add(HealthCheck(runtime, *s_.port, s_.healthcheck));
    } else {
      // Stated, not forgotten: the security gate's DF003 accepts an explicit
      // NONE (a worker has no route to call).
      if (s_.kind == "web") {
        Find("PLAN006", "info", "no health endpoint found: the image has no HEALTHCHECK",
             "add a route such as GET /healthz that answers 200 when the service can serve", "");
        r_.Add("# No health route was found: add one (GET /healthz) and a HEALTHCHECK calling it.");
      }
      r_.Add("HEALTHCHECK NONE");
    }
  }

  void Start(const std::string& fallback = "") {
    const std::string cmd = !s_.start_command.empty() ? s_.start_command : fallback;
    if (cmd.empty()) {
      Find("PLAN002", "error", "no start command was found",
           "add a start command (a `start` script, a Procfile web entry, or CMD in a "
           "Dockerfile); until then the image refuses to start",
           "");
      r_.Add("CMD [\"sh\", \"-c\", \"echo 'no start command: see finding PLAN002' >&2; exit 1\"]");
      return;
    }
    r_.Add("CMD " + ExecForm(cmd));
  }

  void NeedVersion(const Runtime& rt, const std::string& what) {
    if (!rt.tag.empty()) return;
    Find("PLAN001", "warning", "the " + what + " version was not found; the Dockerfile asks for it",
         "set it in " + rt.where + ", or pass --build-arg " + rt.arg + "=<version>", "");
  }

  std::string LockFile() const {
    auto it = s_.source_of.find("package_manager");
    if (it == s_.source_of.end()) return "";
    std::string f = FileOf(it->second);
    const std::string b = BaseName(f);
    for (const char* lock : {"package-lock.json", "npm-shrinkwrap.json", "yarn.lock",
                             "pnpm-lock.yaml", "bun.lockb", "bun.lock", "poetry.lock", "uv.lock",
                             "Pipfile.lock", "requirements.txt", "Gemfile.lock", "composer.lock"}) {
      if (b == lock) return f;
    }
    return "";
  }

  std::string NodeInstall() const {
    const std::string& pm = s_.package_manager;
    if (pm == "pnpm") return "corepack enable && pnpm install --frozen-lockfile";
    if (pm == "yarn") return "corepack enable && yarn install --frozen-lockfile";
    if (pm == "bun") return "bun install --frozen-lockfile";
    return LockFile().empty() ? "npm install" : "npm ci";
  }

  std::string NodeCache() const {
    const std::string& pm = s_.package_manager;
    if (pm == "pnpm") return "--mount=type=cache,target=/root/.local/share/pnpm/store ";
    if (pm == "yarn") return "--mount=type=cache,target=/usr/local/share/.cache/yarn ";
    if (pm == "bun") return "--mount=type=cache,target=/root/.bun/install/cache ";
    return "--mount=type=cache,target=/root/.npm ";
  }

  // Dependencies first (their layer is reused while manifests do not
  // change), then the sources. A workspace member needs the whole repository.
  void NodeDeps(const std::string& image) {
    r_.Add("FROM " + image + " AS deps");
    r_.Add("WORKDIR /app");
    const std::string lock = LockFile();
    if (s_.root == "." && (lock.empty() || DirName(lock) == ".")) {
      r_.Add("COPY package.json " + (lock.empty() ? "" : BaseName(lock) + " ") + "./");
    } else {
      r_.Add("COPY . .");
    }
    r_.Add("RUN " + NodeCache() + NodeInstall());
  }

  std::string NodeImage(Runtime& rt) {
    if (s_.package_manager == "bun") {
      rt = {"BUN_VERSION", TagOf(s_.runtime == "bun" ? s_.runtime_version : ""),
            "packageManager (bun@x.y.z) in package.json"};
      NeedVersion(rt, "Bun");
      return "oven/bun:" + VersionRef(rt) + "-slim";
    }
    rt = RuntimeFor(s_, "NODE_VERSION", "engines.node in package.json, or .nvmrc");
    NeedVersion(rt, "Node.js");
    return "node:" + VersionRef(rt) + "-bookworm-slim";
  }

  void ArgLine(const Runtime& rt) {
    if (rt.tag.empty()) r_.Add("ARG " + rt.arg);
  }

  bool Node() {
    Runtime rt;
    const std::string image = NodeImage(rt);
    ArgLine(rt);
    NodeDeps(image);
    r_.Add("");
    r_.Add("FROM deps AS build");
    r_.Add("COPY . .");
    const std::string dir = s_.root == "." ? "/app" : "/app/" + s_.root;
    r_.Add("WORKDIR " + dir);
    if (!s_.build_command.empty()) r_.Add("RUN " + s_.build_command);
    r_.Add("");
    r_.Add("FROM " + image + " AS runtime");
    r_.Add("ENV NODE_ENV=production");
    r_.Add("WORKDIR /app");
    r_.Add("COPY --from=build --chown=node:node /app /app");
    r_.Add("WORKDIR " + dir);
    r_.Add("USER node");
    Serve(s_.package_manager == "bun" ? "" : "node");
    if (s_.package_manager == "bun" && s_.port && !s_.healthcheck.empty()) {
      // The bun image has no node: use busybox's wget for the check.
      r_.lines.insert(r_.lines.begin() + static_cast<long>(RuntimeStart()) + 1,
                      "COPY --from=" + std::string(kWget) + " /bin/wget /usr/local/bin/wget");
    }
    Start();
    return true;
  }

  std::size_t RuntimeStart() const {
    for (std::size_t i = r_.lines.size(); i-- > 0;) {
      if (r_.lines[i].rfind("FROM ", 0) == 0) return i;
    }
    return 0;
  }

  // Next.js writes a static export to out/.
  std::string StaticDir() const { return s_.framework == "Next.js" ? "out" : SiteDir(s_); }

  bool Static() {
    const bool builds = !s_.package_manager.empty() && !s_.build_command.empty();
    const std::string root_dir = s_.root == "." ? "" : s_.root + "/";
    if (builds) {
      Runtime rt;
      const std::string image = NodeImage(rt);
      ArgLine(rt);
      NodeDeps(image);
      r_.Add("");
      r_.Add("FROM deps AS build");
      r_.Add("COPY . .");
      r_.Add("WORKDIR /app/" + (s_.root == "." ? "" : s_.root));
      r_.Add("RUN " + s_.build_command);
    }
    std::string out_dir = StaticDir();
    if (builds && out_dir.empty()) {
      Find("PLAN005", "warning",
           "the folder the build writes the site to is not known for " +
               (s_.framework.empty() ? std::string("this build") : s_.framework),
           "pass --build-arg SITE_DIR=<folder the build writes>, relative to " +
               (s_.root == "." ? std::string("the repository") : s_.root),
           "");
      out_dir = "${SITE_DIR}";
    }
    r_.Add("");
    r_.Add("# Served by an unprivileged nginx (listens on 8080, runs as uid 101).");
    r_.Add("FROM nginxinc/nginx-unprivileged:1.27-alpine");
    if (out_dir == "${SITE_DIR}") r_.Add("ARG SITE_DIR");
    if (builds) {
      r_.Add("COPY --from=build /app/" + root_dir + out_dir + " /usr/share/nginx/html");
    } else {
      r_.Add("COPY " + (s_.root == "." ? std::string(".") : s_.root) + " /usr/share/nginx/html");
    }
    r_.Add("EXPOSE 8080");
    r_.Add("USER 101");
    r_.Add(
        "HEALTHCHECK --interval=10s --timeout=3s --retries=3 CMD [\"wget\", \"-q\", \"-O\", "
        "\"/dev/null\", \"http://127.0.0.1:8080/\"]");
    return true;
  }

  bool Python() {
    Runtime rt =
        RuntimeFor(s_, "PYTHON_VERSION", ".python-version, or requires-python in pyproject.toml");
    NeedVersion(rt, "Python");
    const std::string image = "python:" + VersionRef(rt) + "-slim-bookworm";
    const std::string base = s_.root == "." ? "" : s_.root + "/";
    ArgLine(rt);
    r_.Add("FROM " + image + " AS build");
    r_.Add("ENV PIP_DISABLE_PIP_VERSION_CHECK=1 PYTHONDONTWRITEBYTECODE=1 VIRTUAL_ENV=/opt/venv");
    r_.Add("RUN python -m venv /opt/venv");
    r_.Add("ENV PATH=/opt/venv/bin:$PATH");
    r_.Add("WORKDIR /app");
    const std::string pm = s_.package_manager;
    const std::string cache = "--mount=type=cache,target=/root/.cache ";
    if (pm == "uv") {
      r_.Add("COPY --from=ghcr.io/astral-sh/uv:0.5 /uv /usr/local/bin/uv");
      r_.Add("COPY " + base + "pyproject.toml " + base + "uv.lock ./");
      r_.Add("RUN " + cache +
             "UV_PROJECT_ENVIRONMENT=/opt/venv uv sync --frozen --no-dev --no-install-project");
    } else if (pm == "poetry") {
      r_.Add("COPY " + base + "pyproject.toml " + base + "poetry.lock ./");
      r_.Add(
          "RUN " + cache +
          "pip install 'poetry>=1.8,<3' && poetry install --only main --no-root --no-interaction");
    } else if (pm == "pipenv") {
      r_.Add("COPY " + base + "Pipfile " + base + "Pipfile.lock ./");
      r_.Add("RUN " + cache + "pip install pipenv && pipenv install --deploy --system");
    } else {
      const std::string req = LockFile();
      if (!req.empty() && BaseName(req).rfind("requirements", 0) == 0) {
        r_.Add("COPY " + req + " ./requirements.txt");
        r_.Add("RUN " + cache + "pip install -r requirements.txt");
      } else {
        r_.Add("COPY " + (s_.root == "." ? std::string(".") : s_.root) + " .");
        r_.Add("RUN " + cache + "pip install .");
      }
    }
    r_.Add("");
    r_.Add("FROM " + image + " AS runtime");
    r_.Add("ENV PYTHONUNBUFFERED=1 PATH=/opt/venv/bin:$PATH");
    r_.Add("RUN useradd --system --uid 10001 --no-create-home app");
    r_.Add("COPY --from=build /opt/venv /opt/venv");
    r_.Add("WORKDIR /app");
    r_.Add("COPY --chown=10001:10001 " + (s_.root == "." ? std::string(".") : s_.root) + " .");
    r_.Add("USER 10001");
    Serve("python");
    Start();
    return true;
  }

  bool Go() {
    Runtime rt = RuntimeFor(s_, "GO_VERSION", "the go directive of go.mod");
    NeedVersion(rt, "Go");
    // The module's folder: where the build command's evidence (go.mod) is.
    std::string mod = ".";
    auto it = s_.source_of.find("build_command");
    if (it != s_.source_of.end()) mod = DirName(FileOf(it->second));
    std::string pkg = ".";
    if (!s_.build_command.empty()) {
      auto sp = s_.build_command.rfind(' ');
      pkg = sp == std::string::npos ? "." : s_.build_command.substr(sp + 1);
    }
    const std::string m = mod == "." ? "" : mod + "/";
    ArgLine(rt);
    r_.Add("FROM golang:" + VersionRef(rt) + "-bookworm AS build");
    r_.Add("WORKDIR /src");
    r_.Add("COPY " + m + "go.mod " + m + "go.su[m] ./");
    r_.Add("RUN --mount=type=cache,target=/go/pkg/mod go mod download");
    r_.Add("COPY " + (mod == "." ? std::string(".") : mod) + " .");
    r_.Add(
        "RUN --mount=type=cache,target=/go/pkg/mod --mount=type=cache,target=/root/.cache/go-build "
        "\\");
    r_.Add("    CGO_ENABLED=0 go build -trimpath -ldflags=\"-s -w\" -o /out/app " + pkg);
    r_.Add("");
    r_.Add("FROM gcr.io/distroless/static-debian12:nonroot");
    if (s_.port && !s_.healthcheck.empty())
      r_.Add("COPY --from=" + std::string(kWget) + " /bin/wget /usr/local/bin/wget");
    r_.Add("COPY --from=build /out/app /app");
    r_.Add("USER nonroot:nonroot");
    Serve("");
    r_.Add("ENTRYPOINT [\"/app\"]");
    return true;
  }

  bool Jvm() {
    Runtime rt =
        RuntimeFor(s_, "JAVA_VERSION", "the java.version property (Maven) or a toolchain (Gradle)");
    NeedVersion(rt, "Java");
    const bool gradle = s_.package_manager == "gradle";
    // Build from the repository's root with the build command the audit
    // found (it knows wrappers and modules), run in the service's folder.
    std::string build = s_.build_command;
    const bool wrapper =
        build.find("gradlew") != std::string::npos || build.find("mvnw") != std::string::npos;
    if (build.empty()) build = gradle ? "gradle build -x test" : "mvn -B package -DskipTests";
    if (!wrapper) {
      Find("PLAN007", "info",
           "no build wrapper (mvnw/gradlew): the build image brings " +
               std::string(gradle ? "Gradle 8" : "Maven 3.9"),
           gradle ? "add the Gradle wrapper (gradle wrapper) to pin the build tool's version"
                  : "add the Maven wrapper (mvn wrapper:wrapper) to pin the build tool's version",
           "");
    }
    ArgLine(rt);
    r_.Add("FROM " +
           std::string(wrapper  ? "eclipse-temurin:" + VersionRef(rt) + "-jdk"
                       : gradle ? "gradle:8-jdk" + VersionRef(rt)
                                : "maven:3.9-eclipse-temurin-" + VersionRef(rt)) +
           " AS build");
    r_.Add("WORKDIR /src");
    r_.Add("COPY . .");
    r_.Add("WORKDIR /src/" + (s_.root == "." ? std::string("") : s_.root));
    const std::string cache = gradle ? "--mount=type=cache,target=/root/.gradle "
                                     : "--mount=type=cache,target=/root/.m2 ";
    r_.Add("RUN " + cache + build);
    const bool quarkus = s_.framework == "Quarkus";
    const std::string out = gradle ? "build" : "target";
    if (quarkus) {
      r_.Add("RUN cp -r " + out + "/quarkus-app /out");
    } else {
      r_.Add(
          "RUN mkdir /out && cp \"$(ls " + out + (gradle ? "/libs" : "") +
          "/*.jar | grep -v -e '-plain' -e '-sources' -e '-javadoc' | head -n 1)\" /out/app.jar");
    }
    r_.Add("");
    r_.Add("FROM eclipse-temurin:" + VersionRef(rt) + "-jre AS runtime");
    if (s_.port && !s_.healthcheck.empty())
      r_.Add("COPY --from=" + std::string(kWget) + " /bin/wget /usr/local/bin/wget");
    r_.Add("RUN useradd --system --uid 10001 --no-create-home app");
    r_.Add("COPY --from=build --chown=10001:10001 /out /app");
    r_.Add("WORKDIR /app");
    r_.Add("USER 10001");
    Serve("");
    r_.Add(std::string("ENTRYPOINT [\"java\", \"-XX:MaxRAMPercentage=75\", \"-jar\", ") +
           (quarkus ? "\"/app/quarkus-run.jar\"]" : "\"/app/app.jar\"]"));
    return true;
  }

  bool Dotnet() {
    Runtime rt = RuntimeFor(s_, "DOTNET_VERSION", "TargetFramework in the project file");
    NeedVersion(rt, ".NET");
    std::string project;
    auto it = s_.source_of.find("language");
    if (it != s_.source_of.end()) project = FileOf(it->second);
    if (project.empty()) return false;
    const std::string dll = BaseName(project).substr(0, BaseName(project).rfind('.')) + ".dll";
    const bool web = s_.kind == "web" || s_.kind == "grpc";
    ArgLine(rt);
    r_.Add("FROM mcr.microsoft.com/dotnet/sdk:" + VersionRef(rt) + " AS build");
    r_.Add("WORKDIR /src");
    r_.Add("COPY . .");
    r_.Add("RUN --mount=type=cache,target=/root/.nuget/packages dotnet publish " + project +
           " -c Release -o /out");
    r_.Add("");
    r_.Add("FROM mcr.microsoft.com/dotnet/" + std::string(web ? "aspnet" : "runtime") + ":" +
           VersionRef(rt));
    if (s_.port && !s_.healthcheck.empty())
      r_.Add("COPY --from=" + std::string(kWget) + " /bin/wget /usr/local/bin/wget");
    r_.Add("WORKDIR /app");
    r_.Add("COPY --from=build /out .");
    r_.Add("USER $APP_UID");
    if (web && s_.port) r_.Add("ENV ASPNETCORE_HTTP_PORTS=" + std::to_string(*s_.port));
    Serve("");
    r_.Add("ENTRYPOINT [\"dotnet\", " + Quote(dll) + "]");
    return true;
  }

  bool Rust() {
    Runtime rt =
        RuntimeFor(s_, "RUST_VERSION", "rust-version in Cargo.toml, or rust-toolchain.toml");
    NeedVersion(rt, "Rust");
    std::string bin = s_.name;
    if (s_.start_command.rfind("./target/release/", 0) == 0) bin = s_.start_command.substr(17);
    ArgLine(rt);
    r_.Add("FROM rust:" + VersionRef(rt) + "-bookworm AS build");
    r_.Add("WORKDIR /src");
    r_.Add("COPY . .");
    r_.Add(
        "RUN --mount=type=cache,target=/usr/local/cargo/registry "
        "--mount=type=cache,target=/src/target \\");
    r_.Add("    cargo build --release --locked --bin " + bin + " && cp target/release/" + bin +
           " /app");
    r_.Add("");
    r_.Add("FROM gcr.io/distroless/cc-debian12:nonroot");
    if (s_.port && !s_.healthcheck.empty())
      r_.Add("COPY --from=" + std::string(kWget) + " /bin/wget /usr/local/bin/wget");
    r_.Add("COPY --from=build /app /app");
    r_.Add("USER nonroot:nonroot");
    Serve("");
    r_.Add("ENTRYPOINT [\"/app\"]");
    return true;
  }

  bool HasBacking(const std::string& name) const { return UsesBacking(s_, name); }

  bool Ruby() {
    Runtime rt = RuntimeFor(s_, "RUBY_VERSION", ".ruby-version, or ruby in the Gemfile");
    NeedVersion(rt, "Ruby");
    const std::string image = "ruby:" + VersionRef(rt) + "-slim-bookworm";
    const std::string base = s_.root == "." ? "" : s_.root + "/";
    std::string dev = "build-essential libyaml-dev", lib = "";
    if (HasBacking("postgres")) dev += " libpq-dev", lib += " libpq5";
    if (HasBacking("mysql")) dev += " default-libmysqlclient-dev", lib += " default-mysql-client";
    ArgLine(rt);
    r_.Add("FROM " + image + " AS build");
    r_.Add("RUN apt-get update && apt-get install -y --no-install-recommends " + dev +
           " && rm -rf /var/lib/apt/lists/*");
    r_.Add("ENV BUNDLE_DEPLOYMENT=1 BUNDLE_WITHOUT=development:test BUNDLE_PATH=/usr/local/bundle");
    r_.Add("WORKDIR /app");
    r_.Add("COPY " + base + "Gemfile " + base + "Gemfile.lock ./");
    r_.Add("RUN bundle install");
    r_.Add("COPY " + (s_.root == "." ? std::string(".") : s_.root) + " .");
    if (s_.framework == "Rails")
      r_.Add("RUN SECRET_KEY_BASE_DUMMY=1 bundle exec rails assets:precompile");
    r_.Add("");
    r_.Add("FROM " + image + " AS runtime");
    if (!lib.empty()) {
      r_.Add("RUN apt-get update && apt-get install -y --no-install-recommends" + lib +
             " && rm -rf /var/lib/apt/lists/*");
    }
    r_.Add("ENV BUNDLE_DEPLOYMENT=1 BUNDLE_WITHOUT=development:test BUNDLE_PATH=/usr/local/bundle");
    r_.Add("RUN useradd --system --uid 10001 --create-home app");
    r_.Add("COPY --from=build /usr/local/bundle /usr/local/bundle");
    r_.Add("COPY --from=build --chown=10001:10001 /app /app");
    r_.Add("WORKDIR /app");
    r_.Add("USER 10001");
    Serve("ruby");
    Start();
    return true;
  }

  bool Php() {
    Runtime rt = RuntimeFor(s_, "PHP_VERSION", "require.php in composer.json");
    NeedVersion(rt, "PHP");
    const std::string base = s_.root == "." ? "" : s_.root + "/";
    std::string ext;
    if (HasBacking("postgres")) ext += " pdo_pgsql";
    if (HasBacking("mysql")) ext += " pdo_mysql";
    ArgLine(rt);
    r_.Add("FROM composer:2 AS deps");
    r_.Add("WORKDIR /app");
    r_.Add("COPY " + base + "composer.json " + base + "composer.lock ./");
    r_.Add(
        "RUN --mount=type=cache,target=/tmp/cache composer install --no-dev --no-scripts "
        "--prefer-dist --no-interaction --no-progress");
    r_.Add("");
    r_.Add("FROM php:" + VersionRef(rt) + "-cli-bookworm AS runtime");
    if (!ext.empty()) {
      r_.Add("RUN apt-get update && apt-get install -y --no-install-recommends" +
             std::string(HasBacking("postgres") ? " libpq-dev" : "") +
             " && docker-php-ext-install" + ext + " && rm -rf /var/lib/apt/lists/*");
    }
    r_.Add("RUN useradd --system --uid 10001 --no-create-home app");
    r_.Add("WORKDIR /app");
    r_.Add("COPY --chown=10001:10001 " + (s_.root == "." ? std::string(".") : s_.root) + " .");
    r_.Add("COPY --from=deps --chown=10001:10001 /app/vendor ./vendor");
    r_.Add("USER 10001");
    Serve("php");
    Start();
    return true;
  }

  const ServiceFacts& s_;
  const PlanOptions& o_;
  Blueprint& out_;
  Recipe r_;
};

// Plan findings use error / warning / info.
std::string PlanSeverity(const std::string& security_severity) {
  if (security_severity == "critical" || security_severity == "high") return "error";
  if (security_severity == "medium") return "warning";
  return "info";
}

// The security gate's Dockerfile rules (DF001-DF007), plus what only the
// plan knows: the runtime version the project asks for (DF008) and the
// service's health route (DF003's fix; only web services need one).
void Review(const ServiceFacts& s, const std::string& text, Blueprint& out) {
  for (const auto& f : security::CheckDockerfile(s.dockerfile, text)) {
    if (f.rule_id == "DF003" && s.kind != "web") continue;
    std::string fix = f.remediation;
    if (f.rule_id == "DF003" && !s.healthcheck.empty())
      fix = "add HEALTHCHECK calling " + s.healthcheck;
    out.findings.push_back(
        {f.rule_id, PlanSeverity(f.severity), s.name, f.message, fix, s.dockerfile, f.line});
  }
  for (const auto& x : audit::ParseDockerfile(text)) {
    if (x.op != "FROM") continue;
    std::istringstream in(x.args);
    std::string image;
    in >> image;
    while (!image.empty() && image.rfind("--", 0) == 0) {  // --platform=...
      if (!(in >> image)) image.clear();                   // "FROM --x" and nothing after: no image
    }
    auto rt = audit::RuntimeOfImage(image);
    if (rt && rt->first == s.runtime && !s.runtime_version.empty() &&
        TagOf(s.runtime_version).rfind(rt->second, 0) != 0 &&
        rt->second.rfind(TagOf(s.runtime_version), 0) != 0) {
      out.findings.push_back({"DF008", "warning", s.name,
                              "base image runs " + rt->first + " " + rt->second +
                                  " but the project asks for " + s.runtime_version + " (" +
                                  s.source_of.at("runtime_version") + ")",
                              "use one version in both places", s.dockerfile, x.line});
    }
  }
}

}  // namespace

void PlanContainer(const ServiceFacts& s, const PlanOptions& o, const RepoReader& read,
                   Blueprint& out) {
  if (!s.dockerfile.empty()) {
    auto text = read ? read(s.dockerfile) : std::nullopt;
    if (!text) {
      out.findings.push_back(
          {"PLAN008", "warning", s.name, "the Dockerfile could not be read for review",
           "check that " + s.dockerfile + " is a readable file", s.dockerfile, 0});
      return;
    }
    Review(s, *text, out);
    return;
  }
  Planner(s, o, out).Run();
}

}  // namespace ps::stages::plan
