// The audit on fixture repositories (tests/fixtures/audit/NAME/repo), compared
// with their expected JSON (NAME/expected.json), plus the facts each fixture
// exists to prove, spelled out. PS_UPDATE_GOLDEN=1 rewrites the expected files
// after a deliberate change; review the diff.
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <random>

#include <grp.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/fs.h"
#include "stages/audit/audit.h"
#include "stages/audit/gitignore.h"
#include "stages/audit/languages.h"
#include "testing/testing.h"

namespace ps::stages::audit {
namespace {

namespace fs = std::filesystem;
using ps::testing::WriteText;

const fs::path kFixtures = fs::path(PS_SOURCE_DIR) / "tests/fixtures/audit";

class AuditFixture : public ::testing::Test {
 protected:
  // Copies the fixture to a temporary folder (so that files git would not
  // keep, such as node_modules/, can be added) and audits it.
  Json Run(const std::string& name, const std::function<void(const fs::path&)>& extras = {}) {
    const fs::path repo = dir_ / name;
    fs::copy(kFixtures / name / "repo", repo,
             fs::copy_options::recursive | fs::copy_options::copy_symlinks);
    if (extras) extras(repo);
    auto view = OpenWorkTree(repo.string());
    EXPECT_TRUE(view.ok());
    auto result = Audit(**view, {});
    EXPECT_TRUE(result.ok()) << result.problem().Message();
    Json j = *result;
    j["source"] = name;  // the temporary path differs every run
    const fs::path golden = kFixtures / name / "expected.json";
    if (std::getenv("PS_UPDATE_GOLDEN")) {
      std::ofstream(golden) << Dump(j, 2) << "\n";
    } else {
      auto text = ReadFile(golden);
      EXPECT_TRUE(text.ok()) << "missing " << golden << "; run with PS_UPDATE_GOLDEN=1";
      if (text.ok()) {
        EXPECT_EQ(Dump(j, 2) + "\n", *text) << "audit of " << name << " changed";
      }
    }
    return j;
  }

  static const Json& Service(const Json& audit, const std::string& name) {
    static const Json kNull;
    for (const auto& s : audit["services"]) {
      if (s["name"] == name) return s;
    }
    ADD_FAILURE() << "no service " << name << " in " << Dump(audit["services"]);
    return kNull;
  }
  static Json Value(const Json& service, const std::string& field) {
    if (!service.is_object() || !service[field].is_object()) return nullptr;
    return service[field]["value"];
  }
  static const Json* Env(const Json& service, const std::string& name) {
    for (const auto& e : service["env_vars"]) {
      if (e["name"] == name) return &e;
    }
    return nullptr;
  }
  static std::set<std::string> Backing(const Json& service) {
    std::set<std::string> out;
    for (const auto& b : service["backing_services"]) out.insert(b["name"].get<std::string>());
    return out;
  }

  ps::testing::TempDir dir_;
};

TEST_F(AuditFixture, NodeExpress) {
  auto a = Run("node-express", [](const fs::path& repo) {
    WriteText(repo / "node_modules/express/package.json",
              R"({"name":"express","scripts":{"start":"x"}})");
    WriteText(repo / "node_modules/express/index.js", "module.exports = 1;\n");
  });
  ASSERT_EQ(a["services"].size(), 1u);  // node_modules is neither a service nor code
  const Json& s = Service(a, "orders-api");
  EXPECT_EQ(Value(s, "framework"), "Express");
  EXPECT_EQ(Value(s, "kind"), "web");
  EXPECT_EQ(Value(s, "package_manager"), "npm");
  EXPECT_EQ(Value(s, "runtime_version")["version"], "20.11.1");  // .nvmrc beats engines
  EXPECT_EQ(Value(s, "port"), 8080);
  EXPECT_EQ(Value(s, "start_command"), "npm start");
  EXPECT_EQ(Value(s, "test_framework"), "jest");
  EXPECT_EQ(Value(s, "healthcheck"), "/healthz");
  EXPECT_EQ(Value(s, "migrations")["tool"], "knex");
  EXPECT_EQ(Value(s, "dockerfile"), "Dockerfile");
  EXPECT_EQ(Backing(s), (std::set<std::string>{"postgres", "redis"}));
  ASSERT_NE(Env(s, "JWT_SECRET"), nullptr);
  EXPECT_TRUE((*Env(s, "JWT_SECRET"))["secret"].get<bool>());
  EXPECT_TRUE((*Env(s, "JWT_SECRET"))["required"].get<bool>());
  ASSERT_NE(Env(s, "DB_POOL_SIZE"), nullptr);
  EXPECT_EQ((*Env(s, "DB_POOL_SIZE"))["default"], "10");
  EXPECT_EQ(Env(s, "TEST_ONLY_VAR"), nullptr);  // read only by a test
  // Evidence names file and line.
  EXPECT_EQ(s["port"]["evidence"][0]["file"], "Dockerfile");
  EXPECT_GT(s["port"]["evidence"][0]["line"].get<int>(), 0);
  EXPECT_EQ(a["languages"][0]["name"], "JavaScript");
  // The Kubernetes Deployment adds its env and probe to the same service.
  EXPECT_EQ(a["files"]["kubernetes"], Json::array({"k8s/deployment.yaml"}));
  ASSERT_NE(Env(s, "LOG_LEVEL"), nullptr);
  EXPECT_EQ((*Env(s, "LOG_LEVEL"))["default"], "info");
  bool probe = false;
  for (const auto& e : s["healthcheck"]["evidence"])
    probe = probe || e["file"] == "k8s/deployment.yaml";
  EXPECT_TRUE(probe);
}

TEST_F(AuditFixture, PythonFastapi) {
  auto a = Run("python-fastapi");
  ASSERT_EQ(a["services"].size(), 1u);
  const Json& s = a["services"][0];
  EXPECT_EQ(Value(s, "framework"), "FastAPI");
  EXPECT_EQ(Value(s, "language"), "Python");
  EXPECT_EQ(Value(s, "package_manager"), "uv");
  EXPECT_EQ(Value(s, "runtime_version")["version"], "3.12");
  EXPECT_EQ(Value(s, "port"), 8000);
  EXPECT_EQ(Value(s, "test_framework"), "pytest");
  EXPECT_EQ(Value(s, "healthcheck"), "/health");
  EXPECT_EQ(Value(s, "migrations")["tool"], "alembic");
  EXPECT_EQ(Value(s, "migrations")["dir"], "migrations");
  EXPECT_EQ(Value(s, "start_command"), "uvicorn main:app --host 0.0.0.0 --port $PORT");
  EXPECT_EQ(Backing(s), (std::set<std::string>{"postgres", "redis"}));
  ASSERT_NE(Env(s, "DATABASE_URL"), nullptr);
  EXPECT_TRUE((*Env(s, "DATABASE_URL"))["required"].get<bool>());
  EXPECT_EQ((*Env(s, "CACHE_TTL"))["default"], "60");
}

TEST_F(AuditFixture, DjangoWithAnAssetBuildIsOneService) {
  auto a = Run("django-assets");
  const Json& s = Service(a, "django-assets");
  EXPECT_EQ(Value(s, "framework"), "Django");
  EXPECT_EQ(Value(s, "runtime_version")["version"], "3.11.9");
  EXPECT_EQ(Value(s, "start_command"), "gunicorn shop.wsgi --log-file -");  // the Procfile wins
  EXPECT_EQ(Value(s, "migrations")["tool"], "django");
  EXPECT_TRUE(Env(s, "DJANGO_SECRET_KEY") && (*Env(s, "DJANGO_SECRET_KEY"))["secret"].get<bool>());
  EXPECT_TRUE(Backing(s).count("postgres"));
  EXPECT_TRUE(Backing(s).count("redis"));
  // The Procfile's worker is a service; package.json (webpack) is not.
  const Json& worker = Service(a, "app-worker");
  EXPECT_EQ(Value(worker, "kind"), "worker");
  for (const auto& svc : a["services"]) EXPECT_NE(svc["name"], "shop-assets");
  EXPECT_EQ(a["services"].size(), 2u);
}

TEST_F(AuditFixture, GoServicesWithCompose) {
  auto a = Run("go-services");
  const Json& api = Service(a, "api");
  EXPECT_EQ(Value(api, "framework"), "Gin");
  EXPECT_EQ(Value(api, "language"), "Go");
  EXPECT_EQ(Value(api, "runtime_version")["version"], "1.22.3");  // toolchain beats go
  EXPECT_EQ(Value(api, "port"), 8080);
  EXPECT_EQ(Value(api, "build_command"), "go build -o bin/api ./cmd/api");
  EXPECT_EQ(Value(api, "migrations")["tool"], "goose");
  EXPECT_EQ(Backing(api), (std::set<std::string>{"postgres", "redis"}));
  const Json& worker = Service(a, "worker");
  EXPECT_TRUE(Env(worker, "QUEUE_NAME"));
  // Generated protobuf code is not counted as hand-written Go.
  EXPECT_EQ(a["stats"]["generated"], 1);  // models.pb.go
  EXPECT_EQ(Value(worker, "kind"), "worker");
  EXPECT_TRUE(Value(worker, "framework").is_null());
  EXPECT_EQ(a["services"].size(), 2u);  // the root Dockerfile and compose build the api
  EXPECT_EQ(Value(api, "dockerfile"), "Dockerfile");
}

TEST_F(AuditFixture, DisagreeingPortsAreAConflictWithEveryCandidate) {
  auto a = Run("conflict");
  const Json& s = a["services"][0];
  ASSERT_TRUE(s["port"]["conflict"].get<bool>());
  std::set<int> candidates;
  for (const auto& c : s["port"]["candidates"]) candidates.insert(c["value"].get<int>());
  EXPECT_EQ(candidates, (std::set<int>{8080, 3000}));
  EXPECT_EQ(Value(s, "framework"), "Fastify");
}

TEST_F(AuditFixture, TurborepoWorkspaces) {
  auto a = Run("turbo-monorepo");
  EXPECT_EQ(a["monorepo"]["tools"], Json::array({"pnpm", "turborepo"}));
  const Json& web = Service(a, "web");
  EXPECT_EQ(Value(web, "framework"), "Next.js");
  EXPECT_EQ(Value(web, "language"), "TypeScript");
  EXPECT_EQ(Value(web, "package_manager"), "pnpm");
  EXPECT_EQ(Value(web, "runtime_version")["version"], "20.12.2");
  EXPECT_EQ(Value(web, "start_command"), "pnpm start");
  EXPECT_EQ(Value(web, "test_framework"), "vitest");
  const Json& api = Service(a, "api");
  EXPECT_EQ(Value(api, "framework"), "Hono");
  EXPECT_EQ(Backing(api), (std::set<std::string>{"mongodb"}));
  // The shared UI package is a library, the root is tooling.
  EXPECT_EQ(a["services"].size(), 2u);
  ASSERT_EQ(a["libraries"].size(), 1u);
  EXPECT_EQ(a["libraries"][0]["root"], "packages/ui");
}

TEST_F(AuditFixture, HostileInputGivesWarningsNotCrashes) {
  auto a = Run("hostile", [](const fs::path& repo) {
    WriteText(repo / "build-output/app.js", "ignored();\n");
    WriteText(repo / "debug.log", "ignored\n");
    fs::create_symlink("/etc/passwd", repo / "passwd");
    fs::create_symlink("../../../..", repo / "up");
    fs::create_symlink("main.py", repo / "alias.py");
    std::ofstream(repo / "huge.json") << std::string(600 * 1024, ' ');
    fs::rename(repo / "huge.json", repo / "package-lock.json");
  });
  std::set<std::string> warned;
  for (const auto& w : a["warnings"]) warned.insert(w["file"].get<std::string>());
  EXPECT_TRUE(warned.count("package.json"));        // malformed JSON
  EXPECT_TRUE(warned.count("compose.yaml"));        // malformed YAML
  EXPECT_TRUE(warned.count("sub/pyproject.toml"));  // malformed TOML
  EXPECT_TRUE(warned.count("blob/package.json"));   // binary
  EXPECT_TRUE(warned.count("package-lock.json"));   // too large to read
  ASSERT_EQ(a["symlinks_outside"].size(), 2u);
  EXPECT_EQ(a["stats"]["ignored"], 2);  // build-output/ and debug.log; keep.log re-included
}

TEST(Gitignore, FollowsGitsRules) {
  IgnoreRules r;
  r.Add("", "# comment\n*.log\n!keep.log\nbuild/\n/root-only.txt\ndocs/**/*.tmp\n\\#hash\n");
  r.Add("sub", "local.txt\n/anchored\n");
  EXPECT_TRUE(r.Ignored("a.log", false));
  EXPECT_TRUE(r.Ignored("deep/dir/a.log", false));
  EXPECT_FALSE(r.Ignored("keep.log", false));
  EXPECT_TRUE(r.Ignored("build", true));
  EXPECT_FALSE(r.Ignored("build", false));  // a file named build is not the folder
  EXPECT_TRUE(r.Ignored("x/build", true));
  EXPECT_TRUE(r.Ignored("root-only.txt", false));
  EXPECT_FALSE(r.Ignored("x/root-only.txt", false));
  EXPECT_TRUE(r.Ignored("docs/a.tmp", false));
  EXPECT_TRUE(r.Ignored("docs/x/y/a.tmp", false));
  EXPECT_TRUE(r.Ignored("#hash", false));
  EXPECT_TRUE(r.Ignored("sub/local.txt", false));
  EXPECT_TRUE(r.Ignored("sub/x/local.txt", false));
  EXPECT_FALSE(r.Ignored("local.txt", false));
  EXPECT_TRUE(r.Ignored("sub/anchored", false));
  EXPECT_FALSE(r.Ignored("sub/x/anchored", false));
}

TEST(Glob, MatchesLikeWildmatch) {
  EXPECT_TRUE(GlobMatch("*.js", "a.js"));
  EXPECT_FALSE(GlobMatch("*.js", "a/b.js"));
  EXPECT_TRUE(GlobMatch("**/b.js", "a/b.js"));
  EXPECT_TRUE(GlobMatch("**/b.js", "b.js"));
  EXPECT_TRUE(GlobMatch("a/**", "a/b/c"));
  EXPECT_FALSE(GlobMatch("a/**", "a"));
  EXPECT_TRUE(GlobMatch("a/**/z", "a/z"));
  EXPECT_TRUE(GlobMatch("a/**/z", "a/b/c/z"));
  EXPECT_TRUE(GlobMatch("[a-c]?.txt", "bx.txt"));
  EXPECT_FALSE(GlobMatch("[!a-c]?.txt", "bx.txt"));
  EXPECT_TRUE(GlobMatch("\\*", "*"));
  // Pathological patterns stay fast (memoised).
  EXPECT_FALSE(GlobMatch("*a*a*a*a*a*a*a*a*a*a*b", std::string(3000, 'a')));
}

// git's wildmatch with WM_PATHNAME, written plainly (backtracking): the
// reference the compiled Glob is held to on random patterns.
bool Wildmatch(std::string_view p, std::string_view t) {
  std::size_t i = 0;
  while (i < p.size()) {
    const char c = p[i];
    if (c == '*') {
      std::size_t run = 1;
      while (i + run < p.size() && p[i + run] == '*') ++run;
      const bool start = i == 0 || p[i - 1] == '/';
      std::string_view rest = p.substr(i + run);
      if (run > 1 && start && rest.empty()) return true;
      if (run > 1 && start && rest[0] == '/') {
        // "**/": no folder at all, or any folders each ending in '/'
        if (Wildmatch(rest.substr(1), t)) return true;
        for (std::size_t k = 0; k < t.size(); ++k) {
          if (t[k] == '/' && Wildmatch(rest.substr(1), t.substr(k + 1))) return true;
        }
        return false;
      }
      for (std::size_t k = 0;; ++k) {
        if (Wildmatch(rest, t.substr(k))) return true;
        if (k == t.size() || t[k] == '/') return false;
      }
    }
    if (t.empty()) return false;
    if (c == '?') {
      if (t[0] == '/') return false;
    } else if (c == '[' && p.find(']', i + 2) != std::string_view::npos) {
      std::size_t k = i + 1;
      const bool negate = p[k] == '!';
      if (negate) ++k;
      bool in = false, first = true;
      while (first || p[k] != ']') {
        first = false;
        char lo = p[k], hi = lo;
        if (k + 2 < p.size() && p[k + 1] == '-' && p[k + 2] != ']') {
          hi = p[k + 2];
          k += 2;
        }
        in = in || (t[0] >= lo && t[0] <= hi);
        ++k;
      }
      if (in == negate || t[0] == '/') return false;
      i = k;
    } else if (c != t[0]) {
      return false;
    }
    ++i;
    t.remove_prefix(1);
  }
  return t.empty();
}

TEST(Glob, AgreesWithGitsWildmatchOnRandomPatterns) {
  std::mt19937 rng(16);
  const std::vector<std::string> parts{"a",   "b", "/",    "*",    "**",
                                       "**/", "?", "[ab]", "[!a]", "[a-b]"};
  int matched = 0;
  for (int n = 0; n < 20000; ++n) {
    std::string p, t;
    for (int k = rng() % 6 + 1; k > 0; --k) p += parts[rng() % parts.size()];
    for (int k = rng() % 9; k > 0; --k) t += "ab/"[rng() % 3];
    const bool want = Wildmatch(p, t);
    matched += want;
    ASSERT_EQ(GlobMatch(p, t), want) << "pattern '" << p << "' text '" << t << "'";
  }
  EXPECT_GT(matched, 1500);  // both answers are exercised
}

TEST(Glob, BracketsAsGitReadsThem) {
  EXPECT_TRUE(GlobMatch("[[:digit:]]x", "7x"));
  EXPECT_FALSE(GlobMatch("[[:digit:]]x", "ax"));
  EXPECT_TRUE(GlobMatch("[![:upper:]]", "a"));
  EXPECT_FALSE(GlobMatch("[![:upper:]]", "A"));
  EXPECT_TRUE(GlobMatch("[Z-\\]]", "]"));
  // Unterminated, or an unknown class: git's pattern matches nothing.
  EXPECT_FALSE(GlobMatch("a[b", "a[b"));
  EXPECT_FALSE(GlobMatch("[[:nope:]]", "a"));
}

TEST(Gitignore, ManyPatternsAreBoundedInMemory) {
  std::string content;
  for (int k = 0; k < 20000; ++k) content += "?\n";
  IgnoreRules r;
  r.SetMemoryLimit(1 << 20);
  r.Add("", content);
  EXPECT_TRUE(r.full());
  EXPECT_LT(r.size(), 20000u);
}

TEST(Gitignore, HostilePatternsCostLinearWork) {
  // 100 patterns "*a*a...*a b1" over 1,000 names of 200 'a's: a backtracking
  // matcher takes minutes; the compiled one a bounded number of steps.
  std::string content;
  for (int k = 0; k < 100; ++k) {
    std::string p;
    for (int j = 0; j < 60; ++j) p += "*a";
    content += p + " b" + std::to_string(k) + "\n";
  }
  IgnoreRules r;
  r.Add("", content);
  for (int k = 0; k < 1000; ++k) {
    EXPECT_FALSE(r.Ignored(std::string(200, 'a') + std::to_string(k), false));
  }
  // names x patterns x characters x words (2) x rounds (reading, closing
  // what was entered and what stayed: 1-2 each)
  EXPECT_LT(r.work(), 1000ull * 100 * 204 * 2 * 6);
  r.SetWorkLimit(r.work());  // past the limit: no more matching
  EXPECT_FALSE(r.Ignored("a b1", false));
}

// Runs `fn` as the user nobody when this process is root (root reads a folder
// whatever its mode), in a child; gives what it printed.
std::string AsNobody(const std::function<std::string()>& fn) {
  if (::geteuid() != 0) return fn();
  int fds[2];
  if (::pipe(fds) != 0) return "pipe failed";
  const pid_t pid = ::fork();
  if (pid == 0) {
    ::close(fds[0]);
    std::string out = "setuid failed";
    if (::setgroups(0, nullptr) == 0 && ::setresgid(65534, 65534, 65534) == 0 &&
        ::setresuid(65534, 65534, 65534) == 0) {
      out = fn();
    }
    for (std::size_t off = 0; off < out.size();) {
      const ssize_t n = ::write(fds[1], out.data() + off, out.size() - off);
      if (n <= 0) break;
      off += static_cast<std::size_t>(n);
    }
    ::_exit(0);
  }
  ::close(fds[1]);
  std::string out;
  char buf[4096];
  ssize_t n;
  while ((n = ::read(fds[0], buf, sizeof buf)) > 0) out.append(buf, static_cast<std::size_t>(n));
  ::close(fds[0]);
  int status = 0;
  ::waitpid(pid, &status, 0);
  return out;
}

TEST(AuditWalk, FifosAndUnreadableFoldersDoNotHangOrVanish) {
  ps::testing::TempDir dir;
  fs::permissions(dir.path(), fs::perms::all);
  const fs::path repo = dir.path() / "repo";
  WriteText(repo / "main.py", "print('hi')\n");
  WriteText(repo / "sub/a.py", "x = 1\n");
  WriteText(repo / "locked/secret.py", "y = 2\n");
  WriteText(repo / "shut.py", "z = 3\n");
  ASSERT_EQ(::mkfifo((repo / ".gitignore").c_str(), 0644), 0);
  ASSERT_EQ(::mkfifo((repo / "sub/.gitignore").c_str(), 0644), 0);
  fs::permissions(repo / "locked", fs::perms::none);
  fs::permissions(repo / "shut.py", fs::perms::none);
  for (const auto& p : {dir.path(), repo, repo / "sub"}) {
    fs::permissions(p, fs::perms::all & ~fs::perms::others_write & ~fs::perms::group_write);
  }
  const std::string text = AsNobody([&] {
    auto view = OpenWorkTree(repo.string());
    if (!view.ok()) return view.problem().Message();
    auto a = Audit(**view, {});
    return a.ok() ? Dump(*a) : a.problem().Message();
  });
  fs::permissions(repo / "locked", fs::perms::owner_all);
  const Json a = Json::parse(text, nullptr, false);
  ASSERT_TRUE(a.is_object()) << text;
  // The walk sees shut.py (reading it is the readers' business); not locked/.
  EXPECT_EQ(a["stats"]["files"], 3) << text;
  EXPECT_EQ(a["stats"]["unreadable"], 1);
  EXPECT_EQ(a["stats"]["truncated"], true);
  ASSERT_EQ(a["unreadable"].size(), 1u);
  EXPECT_EQ(a["unreadable"][0]["path"], "locked");
  EXPECT_EQ(a["unreadable"][0]["why"], "Permission denied");
}

TEST(Languages, NamesAndExclusionsAsLinguist) {
  EXPECT_EQ(LanguageOf("src/a.ts")->name, "TypeScript");
  EXPECT_EQ(LanguageOf("src/a.tsx")->name, "TSX");
  EXPECT_EQ(LanguageOf("Dockerfile.prod")->name, "Dockerfile");
  EXPECT_EQ(LanguageOf("a/Gemfile")->name, "Ruby");
  EXPECT_EQ(LanguageOf("README.md")->type, LangType::kProse);
  EXPECT_EQ(LanguageOf("noext"), nullptr);
  EXPECT_TRUE(IsVendored("node_modules/x/y.js"));
  EXPECT_TRUE(IsVendored("a/vendor/b.go"));
  EXPECT_FALSE(IsVendored("vendors.js"));
  EXPECT_TRUE(IsGenerated("package-lock.json", ""));
  EXPECT_TRUE(IsGenerated("x/app.min.js", ""));
  EXPECT_TRUE(IsGenerated("a.go", "// Code generated by x. DO NOT EDIT.\n"));
  EXPECT_TRUE(IsGenerated("bundle.js", std::string(5000, 'x')));  // minified: one long line
  EXPECT_FALSE(IsGenerated("src/app.js", "const a = 1;\n"));
  EXPECT_TRUE(IsDocumentation("docs/guide.py"));
  EXPECT_TRUE(LooksBinary(std::string("a\0b", 3)));
}

TEST(AuditRevision, ReadsARevisionWithoutCheckout) {
  ps::testing::TempDir dir;
  const auto repo = dir / "repo";
  WriteText(repo / "package.json",
            R"({"name":"rev","scripts":{"start":"node a.js"},"dependencies":{"koa":"2"}})");
  auto git = [&](std::vector<std::string> args) {
    args.insert(args.begin(), {"/usr/bin/git", "-c", "user.name=t", "-c", "user.email=t@t"});
    return ps::testing::RunCommand(args, repo).exit_code;
  };
  ASSERT_EQ(git({"init", "-q", "-b", "main"}), 0);
  ASSERT_EQ(git({"add", "."}), 0);
  ASSERT_EQ(git({"commit", "-q", "-m", "koa"}), 0);
  // The working tree moves on; the revision keeps what was committed.
  WriteText(repo / "package.json",
            R"({"name":"rev","scripts":{"start":"node a.js"},"dependencies":{"express":"4"}})");
  auto view = OpenGitRevision(repo.string(), "HEAD");
  ASSERT_TRUE(view.ok()) << view.problem().Message();
  auto a = Audit(**view, {});
  ASSERT_TRUE(a.ok());
  EXPECT_EQ((*a)["services"][0]["framework"]["value"], "Koa");
  EXPECT_EQ((*a)["commit"].get<std::string>().size(), 40u);
  EXPECT_TRUE(OpenGitRevision(repo.string(), "no-such-ref").problem().Is("invalid-input"));
}

// Source files are read several at a time on a working tree (more than one
// window of them here) and one at a time from memory: the result must not
// depend on it, and every file's env read and port must be found.
TEST(AuditSources, ParallelReadsGiveTheSameResultAsSerialOnes) {
  ps::testing::TempDir dir;
  std::map<std::string, std::string> files;
  files["package.json"] =
      R"({"name":"many","scripts":{"start":"node src/m0.js"},"dependencies":{"express":"4"}})";
  for (int i = 0; i < 1300; ++i) {
    files["src/m" + std::to_string(i) + ".js"] =
        "module.exports = () => process.env.VAR_" + std::to_string(i % 600) + ";\n";
  }
  files["src/server.js"] = "const app = require('express')();\napp.listen(4321);\n";
  for (const auto& [path, text] : files) WriteText(dir / "repo" / path, text);
  auto disk = OpenWorkTree((dir / "repo").string());
  ASSERT_TRUE(disk.ok());
  auto a = Audit(**disk, {});
  auto b = Audit(*OpenMemory(files), {});
  ASSERT_TRUE(a.ok() && b.ok());
  (*a).erase("source");
  (*b).erase("source");
  EXPECT_EQ(Dump(*a), Dump(*b));
  const Json& s = (*a)["services"][0];
  EXPECT_EQ(s["env_vars"].size(), 600u);
  EXPECT_EQ(s["port"]["value"], 4321);
}

}  // namespace
}  // namespace ps::stages::audit

namespace ps::stages::audit {
namespace {

class AuditStacks : public AuditFixture {};

TEST_F(AuditStacks, RailsWithSidekiqAndAnEsbuildPackageJson) {
  auto a = Run("rails");
  const Json& s = Service(a, "rails");
  EXPECT_EQ(Value(s, "framework"), "Rails");
  EXPECT_EQ(Value(s, "package_manager"), "bundler");
  EXPECT_EQ(Value(s, "runtime_version")["version"], "3.3.1");
  EXPECT_EQ(Value(s, "test_framework"), "rspec");
  EXPECT_EQ(Value(s, "migrations")["tool"], "activerecord");
  EXPECT_EQ(Backing(s), (std::set<std::string>{"postgres", "redis"}));
  EXPECT_TRUE(Env(s, "APP_NAME"));
  EXPECT_EQ(Value(Service(a, "app-worker"), "kind"), "worker");
  EXPECT_EQ(a["services"].size(), 2u);  // package.json only builds assets
}

TEST_F(AuditStacks, Laravel) {
  auto a = Run("laravel");
  const Json& s = a["services"][0];
  EXPECT_EQ(Value(s, "framework"), "Laravel");
  EXPECT_EQ(Value(s, "language"), "PHP");
  EXPECT_EQ(Value(s, "package_manager"), "composer");
  EXPECT_EQ(Value(s, "runtime_version")["version"], "^8.2");
  EXPECT_EQ(Value(s, "test_framework"), "phpunit");
  EXPECT_EQ(Value(s, "migrations")["command"], "php artisan migrate --force");
  EXPECT_EQ(Value(s, "healthcheck"), "/up");
  EXPECT_EQ(Backing(s), (std::set<std::string>{"postgres", "redis"}));
  ASSERT_TRUE(Env(s, "APP_KEY"));
  EXPECT_TRUE((*Env(s, "APP_KEY"))["secret"].get<bool>());
  EXPECT_TRUE((*Env(s, "APP_KEY"))["required"].get<bool>());
}

TEST_F(AuditStacks, SpringBootWithMaven) {
  auto a = Run("spring-maven");
  const Json& s = Service(a, "billing");
  EXPECT_EQ(Value(s, "framework"), "Spring Boot");
  EXPECT_EQ(Value(s, "language"), "Java");
  EXPECT_EQ(Value(s, "package_manager"), "maven");
  EXPECT_EQ(Value(s, "runtime_version")["version"], "21");
  EXPECT_EQ(Value(s, "port"), 8081);  // server.port beats the framework default
  EXPECT_EQ(Value(s, "build_command"), "./mvnw -B package -DskipTests");
  EXPECT_EQ(Value(s, "migrations")["tool"], "flyway");
  EXPECT_EQ(Backing(s), (std::set<std::string>{"postgres", "rabbitmq"}));
  EXPECT_TRUE(Env(s, "BILLING_REGION"));
}

TEST_F(AuditStacks, AspNetCoreWithATestProject) {
  auto a = Run("aspnet");
  ASSERT_EQ(a["services"].size(), 1u);  // the test project is not a service
  const Json& s = Service(a, "Api");
  EXPECT_EQ(Value(s, "framework"), "ASP.NET Core");
  EXPECT_EQ(Value(s, "language"), "C#");
  EXPECT_EQ(Value(s, "runtime_version")["version"], "8.0");
  EXPECT_FALSE(s["runtime_version"].value("conflict", false));  // SDK 8.0.204 agrees
  EXPECT_EQ(Value(s, "test_command"), "dotnet test");
  EXPECT_EQ(Value(s, "test_framework"), "xunit");
  EXPECT_EQ(Value(s, "migrations")["tool"], "ef-core");
  EXPECT_EQ(Value(s, "healthcheck"), "/healthz");
  EXPECT_EQ(Backing(s), (std::set<std::string>{"postgres", "redis"}));
}

TEST_F(AuditStacks, RustAxum) {
  auto a = Run("rust-axum");
  const Json& s = Service(a, "ledger");
  EXPECT_EQ(Value(s, "framework"), "Axum");
  EXPECT_EQ(Value(s, "runtime_version")["version"], "1.78.0");
  EXPECT_EQ(Value(s, "port"), 3000);
  EXPECT_EQ(Value(s, "migrations")["tool"], "sqlx");
  EXPECT_EQ(Backing(s), (std::set<std::string>{"postgres", "redis"}));
  EXPECT_TRUE(Env(s, "DATABASE_URL"));
}

TEST_F(AuditStacks, Phoenix) {
  auto a = Run("phoenix");
  const Json& s = Service(a, "chat");
  EXPECT_EQ(Value(s, "framework"), "Phoenix");
  EXPECT_EQ(Value(s, "language"), "Elixir");
  EXPECT_EQ(Value(s, "port"), 4000);
  EXPECT_EQ(Value(s, "migrations")["tool"], "ecto");
  EXPECT_EQ(Backing(s), (std::set<std::string>{"postgres"}));
  ASSERT_TRUE(Env(s, "SECRET_KEY_BASE"));
  EXPECT_TRUE((*Env(s, "SECRET_KEY_BASE"))["secret"].get<bool>());
}

}  // namespace
}  // namespace ps::stages::audit

namespace ps::stages::audit {
namespace {

struct StackCase {
  const char* fixture;
  const char* framework;
  const char* kind;
  int port;  // 0: none expected
  const char* package_manager;
};

class AuditMoreStacks : public AuditFixture, public ::testing::WithParamInterface<StackCase> {};

TEST_P(AuditMoreStacks, FindsFrameworkKindPortAndManager) {
  const StackCase& c = GetParam();
  auto a = Run(c.fixture);
  ASSERT_EQ(a["services"].size(), 1u) << Dump(a["services"]);
  const Json& s = a["services"][0];
  EXPECT_EQ(Value(s, "framework"), c.framework);
  EXPECT_EQ(Value(s, "kind"), c.kind);
  if (c.port) {
    EXPECT_EQ(Value(s, "port"), c.port);
  } else {
    EXPECT_TRUE(Value(s, "port").is_null());
  }
  if (*c.package_manager) {
    EXPECT_EQ(Value(s, "package_manager"), c.package_manager);
  }
}

INSTANTIATE_TEST_SUITE_P(
    Stacks, AuditMoreStacks,
    ::testing::Values(StackCase{"nestjs", "NestJS", "web", 3000, "yarn"},
                      StackCase{"sveltekit-static", "SvelteKit", "static", 3000, "pnpm"},
                      StackCase{"vite-react", "React (Vite)", "static", 0, "bun"},
                      StackCase{"flask", "Flask", "web", 5000, "pip"},
                      StackCase{"streamlit", "Streamlit", "web", 8501, "pip"},
                      StackCase{"sinatra", "Sinatra", "web", 4567, "bundler"},
                      StackCase{"symfony", "Symfony", "web", 8000, "composer"},
                      StackCase{"kotlin-micronaut", "Micronaut", "web", 8080, "gradle"},
                      StackCase{"go-grpc", "gRPC", "grpc", 50051, "go"},
                      StackCase{"actix", "Actix Web", "web", 8080, "cargo"},
                      StackCase{"deno", "Deno", "web", 8000, "deno"},
                      StackCase{"dotnet-worker", ".NET Worker Service", "worker", 0, "dotnet"},
                      StackCase{"static-site", "static HTML", "static", 0, ""},
                      StackCase{"nuxt", "Nuxt", "web", 3000, "npm"},
                      StackCase{"remix", "Remix", "web", 3000, "npm"},
                      StackCase{"astro", "Astro", "static", 4321, "pnpm"},
                      StackCase{"angular", "Angular", "static", 4200, "npm"},
                      StackCase{"koa", "Koa", "web", 4000, "npm"},
                      StackCase{"bun", "Hono", "web", 3000, "bun"},
                      StackCase{"quarkus", "Quarkus", "web", 8080, "maven"},
                      StackCase{"go-echo", "Echo", "web", 1323, "go"},
                      StackCase{"rocket", "Rocket", "web", 8000, "cargo"},
                      StackCase{"react-router", "React Router", "web", 3000, "npm"},
                      StackCase{"go-fiber", "Fiber", "web", 3000, "go"},
                      StackCase{"go-chi", "Chi", "web", 8080, "go"},
                      StackCase{"spring-gradle", "Spring Boot", "web", 8081, "gradle"},
                      StackCase{"micronaut-maven", "Micronaut", "web", 8082, "maven"},
                      StackCase{"helm-chart", "FastAPI", "web", 8000, "uv"},
                      StackCase{"vue-vite", "Vue (Vite)", "static", 0, "pnpm"},
                      StackCase{"python-grpc", "gRPC", "grpc", 50052, "pip"}),
    [](const auto& info) {
      std::string n = info.param.fixture;
      for (auto& ch : n) {
        if (ch == '-') ch = '_';
      }
      return n;
    });

TEST_F(AuditFixture, KotlinAndMicronautDetails) {
  auto a = Run("kotlin-micronaut");
  const Json& s = a["services"][0];
  EXPECT_EQ(Value(s, "language"), "Kotlin");
  EXPECT_EQ(Value(s, "runtime_version")["version"], "17");
  EXPECT_EQ(Value(s, "build_command"), "./gradlew build -x test");
  EXPECT_EQ(Backing(s), (std::set<std::string>{"postgres", "redis"}));
  EXPECT_TRUE(Env(s, "ORDERS_TOPIC"));
}

TEST_F(AuditFixture, JvmDetailsFromConfigurationAndTheRightPom) {
  auto g = Run("spring-gradle");
  const Json& inv = g["services"][0];
  EXPECT_EQ(inv["name"], "inventory");  // rootProject.name, not the folder
  EXPECT_EQ(Value(inv, "healthcheck"), "/actuator/health");
  ASSERT_TRUE(Env(inv, "DATABASE_PASSWORD"));
  EXPECT_TRUE((*Env(inv, "DATABASE_PASSWORD"))["required"].get<bool>());  // ${X} without default
  EXPECT_EQ((*Env(inv, "DATABASE_USER"))["default"], "inventory");
  auto m = Run("micronaut-maven");
  const Json& cat = m["services"][0];
  EXPECT_EQ(cat["name"], "catalog");  // the project's artifactId, not a dependency's
  EXPECT_EQ(Value(cat, "runtime_version")["version"], "21");
  EXPECT_EQ(Value(cat, "migrations")["tool"], "liquibase");
  EXPECT_EQ(Backing(cat), (std::set<std::string>{"mysql"}));
}

TEST_F(AuditFixture, GoMigrationsFolderAndFallbackPort) {
  auto chi = Run("go-chi");
  EXPECT_EQ(Value(chi["services"][0], "migrations")["dir"], "db/migrations");
  EXPECT_EQ(Value(chi["services"][0], "runtime_version")["version"], "1.23.4");  // toolchain
  auto fiber = Run("go-fiber");
  // `if port == "" { port = "3000" }`: the fallback is the port.
  EXPECT_EQ(fiber["services"][0]["port"]["evidence"][0]["file"], "main.go");
}

TEST_F(AuditFixture, NxProjectsAndTheirGraph) {
  auto a = Run("nx-monorepo");
  ASSERT_EQ(a["services"].size(), 2u) << "the workspace root is tooling, not a service";
  const Json& api = Service(a, "api");
  EXPECT_EQ(Value(api, "framework"), "Express");
  EXPECT_EQ(Value(api, "port"), 3333);
  EXPECT_EQ(Value(api, "build_command"), "npx nx build api");
  EXPECT_EQ(Value(api, "start_command"), "node dist/apps/api/main.js");
  EXPECT_EQ(Value(api, "test_framework"), "jest");
  EXPECT_EQ(Backing(api), (std::set<std::string>{"redis"}));
  const Json& web = Service(a, "web");
  EXPECT_EQ(Value(web, "framework"), "React (Vite)");
  EXPECT_EQ(Value(web, "kind"), "static");
  EXPECT_EQ(a["libraries"][0]["name"], "shared-types");
  EXPECT_EQ(a["monorepo"]["tools"], Json::parse(R"(["nx"])"));
  ASSERT_EQ(a["monorepo"]["graph"].size(), 1u);
  EXPECT_EQ(a["monorepo"]["graph"][0]["from"], "apps/api");
  EXPECT_EQ(a["monorepo"]["graph"][0]["to"], "libs/shared-types");
}

TEST_F(AuditFixture, GradleMultiProjectAndMavenModules) {
  auto g = Run("gradle-multi");
  ASSERT_EQ(g["services"].size(), 2u);
  const Json& api = Service(g, "api");
  EXPECT_EQ(Value(api, "port"), 8085);  // server.port=${PORT:8085}
  EXPECT_EQ(Value(api, "build_command"), "../gradlew build -x test");
  EXPECT_EQ(Value(Service(g, "worker"), "kind"), "worker");
  EXPECT_EQ(g["monorepo"]["tools"], Json::parse(R"(["gradle-multi-project"])"));
  EXPECT_EQ(g["monorepo"]["graph"].size(), 2u);
  for (const auto& e : g["monorepo"]["graph"]) EXPECT_EQ(e["to"], "common");

  auto m = Run("maven-modules");
  ASSERT_EQ(m["services"].size(), 1u) << "the aggregator and the shared jar are not services";
  const Json& orders = m["services"][0];
  EXPECT_EQ(Value(orders, "build_command"),
            "../mvnw -B -f ../pom.xml -pl orders -am package -DskipTests");
  EXPECT_EQ(Value(orders, "runtime_version")["version"], "17");  // inherited from the aggregator
  EXPECT_EQ(Backing(orders), (std::set<std::string>{"redis"}));
  ASSERT_EQ(m["monorepo"]["graph"].size(), 1u);
  EXPECT_EQ(m["monorepo"]["graph"][0]["to"], "shared");
}

TEST_F(AuditFixture, HelmValuesAndShebangScripts) {
  auto a = Run("helm-chart");
  const Json& s = a["services"][0];
  EXPECT_EQ(s["name"], "payments");
  EXPECT_EQ(a["files"]["helm_charts"], Json::parse(R"(["deploy/helm/payments/Chart.yaml"])"));
  EXPECT_TRUE(a["files"]["kubernetes"].empty()) << "templates are not manifests";
  EXPECT_TRUE(a["warnings"].empty()) << Dump(a["warnings"]);
  ASSERT_TRUE(Env(s, "PAYMENTS_CURRENCY"));
  EXPECT_EQ((*Env(s, "PAYMENTS_CURRENCY"))["default"], "EUR");
  EXPECT_TRUE((*Env(s, "DATABASE_URL"))["secret"].get<bool>());
  bool from_chart = false;
  for (const auto& e : s["port"]["evidence"]) {
    from_chart |= e["file"] == "deploy/helm/payments/values.yaml";
  }
  EXPECT_TRUE(from_chart);
  // bin/reconcile has no extension: its #! line makes it Python.
  EXPECT_EQ(a["languages"][0]["files"], 2);
}

TEST(AuditNode, PortOnTheStartCommandBeatsTheFrameworkDefault) {
  for (const auto& [start, port] :
       std::vector<std::pair<std::string, int>>{{"next start -p 4000", 4000},
                                                {"next start --port=4100", 4100},
                                                {"PORT=5000 node server.js", 5000},
                                                {"next start", 3000}}) {
    auto view = OpenMemory({{"package.json", R"({"name":"site","scripts":{"start":")" + start +
                                                 R"("},"dependencies":{"next":"15"}})"}});
    auto a = Audit(*view, {});
    ASSERT_TRUE(a.ok());
    EXPECT_EQ((*a)["services"][0]["port"]["value"], port) << start;
  }
}

TEST(Languages, ShebangNamesTheInterpreter) {
  EXPECT_EQ(LanguageOfShebang("#!/usr/bin/env python3\n")->name, "Python");
  EXPECT_EQ(LanguageOfShebang("#!/bin/bash -e\n")->name, "Shell");
  EXPECT_EQ(LanguageOfShebang("#!/usr/bin/env -S node --enable-source-maps\n")->name, "JavaScript");
  EXPECT_EQ(LanguageOfShebang("#!/usr/local/bin/ruby3.3\n")->name, "Ruby");
  EXPECT_EQ(LanguageOfShebang("#!/usr/bin/env awk -f\n"), nullptr);
  EXPECT_EQ(LanguageOfShebang("plain text"), nullptr);
  EXPECT_EQ(LanguageOfShebang("#!"), nullptr);
}

// toml++ 3.3 reaches __builtin_unreachable() on some non-ASCII code points
// (found by audit_fuzz; its input is kept in fuzz/corpus/audit, replayed by
// every fuzz run): the audit scrubs them first. A manifest with Cyrillic,
// CJK punctuation or presentation forms, or cut-off UTF-8, is still read,
// or warned about.
TEST(AuditToml, NonAsciiAndBrokenUtf8AreReadSafely) {
  const std::string cyrillic = "\xd1\x92", cjk = "\xe3\x80\x81", arabic = "\xef\xb4\xbe";
  auto view = OpenMemory(
      {{"Cargo.toml", "[package]\nname = \"svc\"\nauthors = [\"Jos\xc3\xa9 " + cyrillic +
                          "\"]\nversion = \"0.1.0\"\n# " + cjk + arabic +
                          "\n[dependencies]\naxum = \"0.7\"\n"},
       {"src/main.rs", "fn main() { axum::serve(); }\n"},
       {"tools/Cargo.toml", "[" + cyrillic + "s]\nx = " + cyrillic + "\n" + arabic + "= 1\n\xd8"}});
  auto r = Audit(*view, {});
  ASSERT_TRUE(r.ok());
  bool svc = false;
  for (const auto& s : (*r)["services"]) svc |= s["name"] == "svc";
  EXPECT_TRUE(svc) << Dump(*r);
  bool warned = false;
  for (const auto& w : (*r)["warnings"]) warned |= w["file"] == "tools/Cargo.toml";
  EXPECT_TRUE(warned);
}

}  // namespace
}  // namespace ps::stages::audit

namespace ps::stages::audit {
namespace {

// A service whatever serves it (issue 15): a Rack config.ru, a Node entry
// with node:http, Go's net/http at the module's root, a Python script with
// http.server — no framework, no Procfile, no Dockerfile.
TEST(AuditStdlib, StandardLibraryServersAreWebServices) {
  const std::vector<std::pair<std::map<std::string, std::string>, std::string>> cases = {
      {{{"Gemfile", "source 'https://rubygems.org'\ngem 'rack'\ngem 'webrick'\n"},
        {"config.ru", "run ->(env) { [200, {}, ['ok']] }\n"}},
       "bundle exec rackup --host 0.0.0.0 -p $PORT"},
      {{{"package.json", "{\"name\":\"n\",\"main\":\"server.js\"}"},
        {"server.js",
         "const http = require('http');\nhttp.createServer((q, r) => r.end('x'))"
         ".listen(process.env.PORT || 8080);\n"}},
       "node server.js"},
      {{{"go.mod", "module example.com/g\n\ngo 1.22\n"},
        {"main.go",
         "package main\n\nimport \"net/http\"\n\nfunc main() { http.ListenAndServe(\":8080\", nil) "
         "}\n"}},
       "./bin/g"},
      {{{"app.py",
         "import http.server, os\nhttp.server.HTTPServer(('', int(os.environ['PORT'])), "
         "http.server.SimpleHTTPRequestHandler).serve_forever()\n"}},
       "python3 app.py"},
  };
  for (const auto& [files, start] : cases) {
    auto view = OpenMemory(files);
    auto a = Audit(*view, {});
    ASSERT_TRUE(a.ok());
    ASSERT_EQ((*a)["services"].size(), 1u)
        << files.begin()->first << ": " << Dump((*a)["services"]);
    const Json& s = (*a)["services"][0];
    EXPECT_EQ(s["kind"]["value"], "web") << start;
    EXPECT_EQ(s["start_command"]["value"], start);
  }
}

}  // namespace
}  // namespace ps::stages::audit
