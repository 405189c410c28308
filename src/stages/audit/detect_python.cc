// Python projects: requirements files, pyproject.toml (PEP 621 and Poetry),
// Pipfile, manage.py, version files.
#include <algorithm>
#include <cctype>
#include <sstream>

#include "stages/audit/audit.h"
#include "stages/audit/toml_read.h"

namespace ps::stages::audit {

namespace {

struct Dep {
  std::string name;  // normalised: lower case, '_' and '.' as '-'
  std::string spec;
  Evidence evidence;
};

std::string Normalise(std::string n) {
  for (auto& c : n) {
    c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    if (c == '_' || c == '.') c = '-';
  }
  return n;
}

// "Django>=4.2,<5 ; python_version>'3'" -> name and spec.
std::optional<Dep> ParseRequirement(std::string line, const std::string& file, int lineno) {
  auto hash = line.find('#');
  if (hash != std::string::npos) line = line.substr(0, hash);
  while (!line.empty() && std::isspace(static_cast<unsigned char>(line.back()))) line.pop_back();
  std::size_t i = 0;
  while (i < line.size() && std::isspace(static_cast<unsigned char>(line[i]))) ++i;
  line = line.substr(i);
  if (line.empty() || line[0] == '-') return std::nullopt;  // options, -r includes
  std::size_t end = 0;
  while (end < line.size() && (std::isalnum(static_cast<unsigned char>(line[end])) ||
                               line[end] == '-' || line[end] == '_' || line[end] == '.')) {
    ++end;
  }
  if (end == 0) return std::nullopt;
  Dep d;
  d.name = Normalise(line.substr(0, end));
  d.spec = line.substr(end);
  d.evidence = {file, lineno, line};
  return d;
}

constexpr FrameworkRule kPythonFrameworks[] = {
    {"django", "Django", "web", 8000, 0.9},       {"fastapi", "FastAPI", "web", 8000, 0.9},
    {"flask", "Flask", "web", 5000, 0.85},        {"streamlit", "Streamlit", "web", 8501, 0.9},
    {"starlette", "Starlette", "web", 8000, 0.7}, {"sanic", "Sanic", "web", 8000, 0.8},
    {"aiohttp", "aiohttp", "web", 8080, 0.5},     {"grpcio", "gRPC", "grpc", 50051, 0.6},
};

constexpr std::pair<const char*, const char*> kPythonBacking[] = {
    {"psycopg2", "postgres"},
    {"psycopg2-binary", "postgres"},
    {"psycopg", "postgres"},
    {"asyncpg", "postgres"},
    {"pymysql", "mysql"},
    {"mysqlclient", "mysql"},
    {"aiomysql", "mysql"},
    {"redis", "redis"},
    {"django-redis", "redis"},
    {"pymongo", "mongodb"},
    {"motor", "mongodb"},
    {"mongoengine", "mongodb"},
    {"pika", "rabbitmq"},
    {"aio-pika", "rabbitmq"},
    {"kafka-python", "kafka"},
    {"confluent-kafka", "kafka"},
    {"aiokafka", "kafka"},
    {"elasticsearch", "elasticsearch"},
    {"opensearch-py", "elasticsearch"},
    {"pymemcache", "memcached"},
    {"python-memcached", "memcached"},
    {"boto3", "s3"},
    {"django-storages", "s3"},
};

void AddTomlDeps(const toml::array* arr, const std::string& file, const std::string& text,
                 std::vector<Dep>& out) {
  if (!arr) return;
  for (const auto& el : *arr) {
    if (auto s = el.value<std::string>()) {
      auto pos = text.find(*s);
      if (auto d = ParseRequirement(*s, file, pos == std::string::npos ? 0 : LineOf(text, pos))) {
        out.push_back(*d);
      }
    }
  }
}

void AddTomlTable(const toml::table* t, const std::string& file, const std::string& text,
                  std::vector<Dep>& out) {
  if (!t) return;
  for (const auto& [k, v] : *t) {
    std::string name(k.str());
    auto pos = text.find(name);
    Dep d;
    d.name = Normalise(name);
    if (auto s = v.value<std::string>()) d.spec = *s;
    d.evidence = {file, pos == std::string::npos ? 0 : LineOf(text, pos), name};
    out.push_back(d);
  }
}

}  // namespace

void DetectPython(RepoIndex& idx, Services& out) {
  // Folders with Python manifests.
  std::map<std::string, std::vector<Dep>> deps;
  std::map<std::string, std::vector<std::pair<std::string, Evidence>>> managers;
  std::map<std::string, std::vector<std::pair<std::string, Evidence>>> versions;
  std::map<std::string, std::string> names_of;  // root -> [project] or [tool.poetry] name

  for (const auto& path : idx.Named("requirements.txt")) {
    auto text = idx.Read(path);
    if (!text) continue;
    auto& list = deps[DirOf(path)];
    std::istringstream in(*text);
    std::string line;
    int n = 0;
    while (std::getline(in, line)) {
      ++n;
      if (auto d = ParseRequirement(line, path, n)) list.push_back(*d);
    }
    managers[DirOf(path)].push_back({"pip", {path, 0, "requirements file"}});
  }
  for (const char* manifest : {"pyproject.toml", "Pipfile"}) {
    for (const auto& path : idx.Named(manifest)) {
      std::string body;
      auto parsed = ReadToml(idx, path, &body);
      if (!parsed) continue;
      toml::table& doc = *parsed;
      const std::string* text = &body;
      const std::string root = DirOf(path);
      auto& list = deps[root];
      if (std::string(manifest) == "Pipfile") {
        AddTomlTable(doc["packages"].as_table(), path, *text, list);
        AddTomlTable(doc["dev-packages"].as_table(), path, *text, list);
        managers[root].push_back({"pipenv", {path, 0, "Pipfile"}});
        if (auto v = doc["requires"]["python_version"].value<std::string>()) {
          versions[root].push_back({*v, {path, 0, "requires.python_version"}});
        }
        continue;
      }
      if (auto n = doc["project"]["name"].value<std::string>()) {
        names_of[root] = *n;
      } else if (auto pn = doc["tool"]["poetry"]["name"].value<std::string>()) {
        names_of[root] = *pn;
      }
      AddTomlDeps(doc["project"]["dependencies"].as_array(), path, *text, list);
      if (auto* opt = doc["project"]["optional-dependencies"].as_table()) {
        for (const auto& [k, v] : *opt) AddTomlDeps(v.as_array(), path, *text, list);
      }
      if (auto* groups = doc["dependency-groups"].as_table()) {
        for (const auto& [k, v] : *groups) AddTomlDeps(v.as_array(), path, *text, list);
      }
      AddTomlTable(doc["tool"]["poetry"]["dependencies"].as_table(), path, *text, list);
      AddTomlTable(doc["tool"]["poetry"]["group"]["dev"]["dependencies"].as_table(), path, *text,
                   list);
      if (auto v = doc["project"]["requires-python"].value<std::string>()) {
        auto pos = text->find("requires-python");
        versions[root].push_back(
            {*v, {path, pos == std::string::npos ? 0 : LineOf(*text, pos), "requires-python"}});
      }
      if (auto v = doc["tool"]["poetry"]["dependencies"]["python"].value<std::string>()) {
        versions[root].push_back({*v, {path, 0, "tool.poetry.dependencies.python"}});
      }
      if (doc["tool"]["poetry"].as_table())
        managers[root].push_back({"poetry", {path, 0, "[tool.poetry]"}});
      if (doc["tool"]["uv"].as_table()) managers[root].push_back({"uv", {path, 0, "[tool.uv]"}});
    }
  }
  // A script that serves HTTP with the standard library (http.server,
  // wsgiref, socketserver) and nothing to install: a service of its folder.
  for (const auto& src : idx.Sources()) {
    if (src.size() < 4 || src.compare(src.size() - 3, 3, ".py") != 0) continue;
    if (!IsScannedSource(src)) continue;
    const std::string dir = DirOf(src);
    if (deps.count(dir) || out.count(dir)) continue;
    auto t = idx.Read(src);
    if (!t || t->find("serve_forever(") == std::string::npos ||
        (t->find("http.server") == std::string::npos && t->find("wsgiref") == std::string::npos &&
         t->find("socketserver") == std::string::npos)) {
      continue;
    }
    Service& s = ServiceAt(out, dir);
    const std::string file = src.substr(dir == "." ? 0 : dir.size() + 1);
    const Evidence ev{src, 0, "a standard-library HTTP server (serve_forever)"};
    s.language.Add("Python", 0.9, ev);
    s.kind.Add("web", 0.75, ev);
    s.start_command.Add("python3 " + file, 0.75, ev);
    s.package_manager.Add("pip", 0.3, {dir, 0, "the standard library only"});
  }
  for (const auto& path : idx.Named("manage.py")) deps[DirOf(path)];  // Django without manifests
  for (const auto& path : idx.Named("setup.py")) deps[DirOf(path)];
  // A Django project in a subfolder (netbox/manage.py) whose requirements
  // sit above it, at the repository's root: those are its requirements, and
  // the root is not a second service.
  for (const auto& mp : idx.Named("manage.py")) {
    const std::string d = DirOf(mp);
    if (d == "." || !deps[d].empty()) continue;
    for (std::string a = DirOf(d);; a = DirOf(a)) {
      auto it = deps.find(a);
      if (it != deps.end() && !it->second.empty() && !idx.Has(JoinPath(a, "manage.py"))) {
        auto& mine = deps[d];
        mine.insert(mine.end(), it->second.begin(), it->second.end());
        for (auto& v : versions[a]) versions[d].push_back(v);
        for (auto& m : managers[a]) managers[d].push_back(m);
        deps.erase(it);
        break;
      }
      if (a == ".") break;
    }
  }

  for (auto& entry : deps) {
    const std::string& root = entry.first;  // not a structured binding: lambdas capture it
    auto& list = entry.second;
    Service& s = ServiceAt(out, root);
    if (names_of.count(root) && s.name.empty()) {
      s.name = names_of[root];
      s.package_id = names_of[root];
    }
    s.language.Add("Python", 0.9, {root, 0, "Python manifests in this folder"});
    std::set<std::string> names;
    for (const auto& d : list) names.insert(d.name);
    auto evidence_of = [&](const std::string& n) -> Evidence {
      for (const auto& d : list) {
        if (d.name == n) return d.evidence;
      }
      return {root, 0, n};
    };

    const FrameworkRule* fw = nullptr;
    for (const auto& f : kPythonFrameworks) {
      if (names.count(f.dep)) {
        fw = &f;
        break;
      }
    }
    // manage.py is Django's when it names Django (Flask-Script and others
    // have one too).
    const std::string manage = JoinPath(root, "manage.py");
    bool django = names.count("django") != 0;
    if (!django && idx.Has(manage)) {
      if (auto m = idx.Read(manage)) {
        django = m->find("django") != std::string::npos || m->find("DJANGO_") != std::string::npos;
      }
    }
    if (idx.Has(manage) && django) {
      s.framework.Add("Django", 0.95, {manage, 0, "manage.py"});
      s.kind.Add("web", 0.9, {manage, 0, "manage.py"});
      s.port.Add(8000, 0.3, {manage, 0, "Django default port"});
      s.migrations.Add(
          Json{{"tool", "django"}, {"dir", nullptr}, {"command", "python manage.py migrate"}}, 0.9,
          {manage, 0, "manage.py"});
      // The WSGI module gives the start command.
      for (const auto& w : idx.Under(root, "wsgi.py")) {
        std::string mod = w.substr(root == "." ? 0 : root.size() + 1);
        mod = mod.substr(0, mod.size() - 3);
        std::replace(mod.begin(), mod.end(), '/', '.');
        s.start_command.Add("gunicorn " + mod + ":application --bind 0.0.0.0:$PORT", 0.8,
                            {w, 0, "WSGI entry point"});
        break;
      }
    }
    if (fw) {
      s.framework.Add(fw->name, fw->confidence, evidence_of(fw->dep));
      s.kind.Add(fw->kind, fw->confidence, evidence_of(fw->dep));
      s.port.Add(fw->port, 0.3,
                 {evidence_of(fw->dep).file, 0, std::string(fw->name) + " default port"});
    } else if (names.count("celery") || names.count("rq") || names.count("dramatiq")) {
      s.kind.Add("worker", 0.7,
                 evidence_of(names.count("celery") ? "celery"
                             : names.count("rq")   ? "rq"
                                                   : "dramatiq"));
    } else if (!django) {
      s.deployable = false;  // a library or scripts
    }
    // Start commands from the app module.
    if (fw && (std::string(fw->name) == "FastAPI" || std::string(fw->name) == "Flask" ||
               std::string(fw->name) == "Streamlit")) {
      for (const char* entry : {"main.py", "app.py", "asgi.py"}) {
        for (const auto& p : idx.Under(root, entry)) {
          std::string rel = p.substr(root == "." ? 0 : root.size() + 1);
          if (std::count(rel.begin(), rel.end(), '/') > 1) continue;
          std::string mod = rel.substr(0, rel.size() - 3);
          std::replace(mod.begin(), mod.end(), '/', '.');
          std::string cmd = std::string(fw->name) == "FastAPI"
                                ? "uvicorn " + mod + ":app --host 0.0.0.0 --port $PORT"
                            : std::string(fw->name) == "Flask"
                                ? "gunicorn " + mod + ":app --bind 0.0.0.0:$PORT"
                                : "streamlit run " + rel + " --server.port $PORT";
          s.start_command.Add(cmd, 0.6, {p, 0, "application module"});
        }
      }
    }
    for (const auto& [m, ev] : managers[root]) s.package_manager.Add(m, m == "pip" ? 0.6 : 0.8, ev);
    for (const auto& [lock, m] : std::vector<std::pair<std::string, std::string>>{
             {"poetry.lock", "poetry"}, {"Pipfile.lock", "pipenv"}, {"uv.lock", "uv"}}) {
      std::string p = JoinPath(root, lock);
      if (idx.Has(p)) s.package_manager.Add(m, 0.95, {p, 0, "lock file"});
    }
    if (s.package_manager.empty()) s.package_manager.Add("pip", 0.3, {root, 0, "pip by default"});
    const std::string pm = s.package_manager.value().get<std::string>();
    s.build_command.Add(pm == "poetry"   ? "poetry install --only main"
                        : pm == "pipenv" ? "pipenv install --deploy"
                        : pm == "uv"     ? "uv sync --frozen"
                                         : "pip install -r requirements.txt",
                        0.6, {root, 0, "package manager " + pm});
    for (const auto& [v, ev] : versions[root]) {
      s.runtime_version.Add(Json{{"runtime", "python"}, {"version", v}}, 0.7, ev);
    }
    for (const char* f : {".python-version", "runtime.txt"}) {
      std::string p = JoinPath(root, f);
      if (auto t = idx.Read(p)) {
        std::string v = *t;
        while (!v.empty() && std::isspace(static_cast<unsigned char>(v.back()))) v.pop_back();
        if (v.rfind("python-", 0) == 0) v = v.substr(7);
        if (!v.empty() && v.size() < 40) {
          s.runtime_version.Add(Json{{"runtime", "python"}, {"version", v}}, 0.9, {p, 1, *t});
        }
      }
    }
    if (names.count("pytest")) {
      s.test_framework.Add("pytest", 0.9, evidence_of("pytest"));
      s.test_command.Add("pytest", 0.8, evidence_of("pytest"));
    } else if (django) {
      s.test_framework.Add("django", 0.6, {manage, 0, "manage.py test"});
      s.test_command.Add("python manage.py test", 0.6, {manage, 0, "manage.py"});
    }
    for (const auto& [dep, svc] : kPythonBacking) {
      if (names.count(dep)) s.AddBacking(svc, evidence_of(dep));
    }
    if (names.count("celery")) s.AddBacking("redis", evidence_of("celery"));
    // Flask-Migrate: Alembic driven by `flask db`, its scripts in migrations/.
    if (names.count("flask-migrate")) {
      s.migrations.Add(Json{{"tool", "flask-migrate"},
                            {"dir", JoinPath(root, "migrations")},
                            {"command", "flask db upgrade"}},
                       0.97, evidence_of("flask-migrate"));
    }
    std::string alembic = JoinPath(root, "alembic.ini");
    if (auto t = idx.Read(alembic)) {
      std::string dir = "alembic";
      auto pos = t->find("script_location");
      if (pos != std::string::npos) {
        auto eq = t->find('=', pos);
        auto eol = t->find('\n', pos);
        if (eq != std::string::npos && eq < eol) {
          dir = t->substr(eq + 1, eol == std::string::npos ? std::string::npos : eol - eq - 1);
          dir.erase(0, dir.find_first_not_of(" \t"));
          while (!dir.empty() && std::isspace(static_cast<unsigned char>(dir.back())))
            dir.pop_back();
          auto colon = dir.find(':');
          if (colon != std::string::npos) dir = dir.substr(colon + 1);  // package:path
        }
      }
      s.migrations.Add(
          Json{{"tool", "alembic"},
               {"dir", JoinPath(root, dir)},
               {"command", "alembic upgrade head"}},
          0.95, {alembic, pos == std::string::npos ? 0 : LineOf(*t, pos), "script_location"});
    }
  }
}

}  // namespace ps::stages::audit
