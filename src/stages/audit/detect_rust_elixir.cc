// Rust (Cargo: Axum, Actix Web, Rocket, tonic) and Elixir (Mix: Phoenix).
#include <cctype>

#include "stages/audit/audit.h"
#include "stages/audit/toml_read.h"

namespace ps::stages::audit {

namespace {

Evidence At(const std::string& path, const std::string& text, const std::string& needle) {
  auto pos = text.find(needle);
  return {path, pos == std::string::npos ? 0 : LineOf(text, pos), needle};
}

}  // namespace

void DetectRust(RepoIndex& idx, Services& out) {
  for (const auto& path : idx.Named("Cargo.toml")) {
    std::string body;
    auto parsed = ReadToml(idx, path, &body);
    if (!parsed) continue;
    const toml::table& doc = *parsed;
    const std::string* text = &body;
    const std::string root = DirOf(path);
    auto name = doc["package"]["name"].value<std::string>();
    if (!name) continue;  // a virtual workspace manifest
    std::set<std::string> deps;
    std::map<std::string, std::string> features;  // dep -> its features, joined
    for (const char* section : {"dependencies", "dev-dependencies"}) {
      if (auto* t = doc[section].as_table()) {
        for (const auto& [k, v] : *t) {
          deps.insert(std::string(k.str()));
          if (auto* vt = v.as_table()) {
            if (auto* f = (*vt)["features"].as_array()) {
              for (const auto& x : *f) {
                if (auto sv = x.value<std::string>()) features[std::string(k.str())] += *sv + " ";
              }
            }
          }
        }
      }
    }
    Service& s = ServiceAt(out, root);
    s.name = *name;
    s.package_id = *name;
    for (const auto& dep : deps) s.uses.emplace_back(dep, At(path, *text, dep));
    s.language.Add("Rust", 0.95, {path, 0, "Cargo.toml"});
    s.package_manager.Add("cargo", 0.95, {path, 0, "Cargo.toml"});
    s.build_command.Add("cargo build --release --locked", 0.8, {path, 0, "cargo"});
    s.start_command.Add("./target/release/" + *name, 0.6, {path, 0, "release binary"});
    s.test_framework.Add("cargo test", 0.9, {path, 0, "cargo"});
    s.test_command.Add("cargo test", 0.9, {path, 0, "cargo"});
    bool framework = false;
    for (const auto& [dep, fw, port] :
         std::vector<std::tuple<std::string, std::string, int>>{{"axum", "Axum", 3000},
                                                                {"actix-web", "Actix Web", 8080},
                                                                {"rocket", "Rocket", 8000},
                                                                {"warp", "Warp", 3030},
                                                                {"poem", "Poem", 3000},
                                                                {"tonic", "gRPC", 50051}}) {
      if (deps.count(dep)) {
        s.framework.Add(fw, 0.9, At(path, *text, dep));
        s.kind.Add(fw == "gRPC" ? "grpc" : "web", 0.8, At(path, *text, dep));
        s.port.Add(port, 0.3, {path, 0, fw + " default port"});
        framework = true;
        break;
      }
    }
    if (!framework && !idx.Has(JoinPath(root, "src/main.rs"))) s.deployable = false;
    if (deps.count("sqlx")) {
      const std::string& f = features["sqlx"];
      if (f.find("postgres") != std::string::npos)
        s.AddBacking("postgres", At(path, *text, "sqlx"));
      if (f.find("mysql") != std::string::npos) s.AddBacking("mysql", At(path, *text, "sqlx"));
      s.migrations.Add(Json{{"tool", "sqlx"},
                            {"dir", JoinPath(root, "migrations")},
                            {"command", "sqlx migrate run"}},
                       0.8, At(path, *text, "sqlx"));
    }
    if (deps.count("diesel")) {
      const std::string& f = features["diesel"];
      if (f.find("postgres") != std::string::npos)
        s.AddBacking("postgres", At(path, *text, "diesel"));
      if (f.find("mysql") != std::string::npos) s.AddBacking("mysql", At(path, *text, "diesel"));
      s.migrations.Add(Json{{"tool", "diesel"},
                            {"dir", JoinPath(root, "migrations")},
                            {"command", "diesel migration run"}},
                       0.8, At(path, *text, "diesel"));
    }
    // Session and cache stores by feature (actix-session's redis-session...).
    for (const auto& [dep, f] : features) {
      if (f.find("redis") != std::string::npos && dep.find("redis") == std::string::npos)
        s.AddBacking("redis", At(path, *text, dep));
    }
    for (const auto& [dep, svc] :
         std::vector<std::pair<std::string, std::string>>{{"tokio-postgres", "postgres"},
                                                          {"postgres", "postgres"},
                                                          {"redis", "redis"},
                                                          {"deadpool-redis", "redis"},
                                                          {"mongodb", "mongodb"},
                                                          {"lapin", "rabbitmq"},
                                                          {"rdkafka", "kafka"},
                                                          {"aws-sdk-s3", "s3"},
                                                          {"elasticsearch", "elasticsearch"},
                                                          {"async-nats", "nats"}}) {
      if (deps.count(dep)) s.AddBacking(svc, At(path, *text, dep));
    }
    for (const char* tc : {"rust-toolchain.toml", "rust-toolchain"}) {
      for (std::string dir = root;; dir = DirOf(dir)) {
        const std::string p = JoinPath(dir, tc);
        if (auto t = idx.Read(p)) {
          std::string v = *t;
          auto ch = v.find("channel");
          if (ch != std::string::npos) {
            auto q = v.find('"', ch);
            auto e = q == std::string::npos ? q : v.find('"', q + 1);
            v = q == std::string::npos || e == std::string::npos ? "" : v.substr(q + 1, e - q - 1);
          }
          while (!v.empty() && std::isspace(static_cast<unsigned char>(v.back()))) v.pop_back();
          if (!v.empty() && v.size() < 40)
            s.runtime_version.Add(Json{{"runtime", "rust"}, {"version", v}}, 0.9, {p, 1, v});
          break;
        }
        if (dir == ".") break;
      }
    }
    if (auto rv = doc["package"]["rust-version"].value<std::string>()) {
      s.runtime_version.Add(Json{{"runtime", "rust"}, {"version", ">=" + *rv}}, 0.7,
                            At(path, *text, "rust-version"));
    }
  }
}

void DetectElixir(RepoIndex& idx, Services& out) {
  for (const auto& path : idx.Named("mix.exs")) {
    auto text = idx.Read(path);
    if (!text) continue;
    const std::string root = DirOf(path);
    Service& s = ServiceAt(out, root);
    s.language.Add("Elixir", 0.95, {path, 0, "mix.exs"});
    s.package_manager.Add("mix", 0.95, {path, 0, "mix.exs"});
    s.build_command.Add("mix deps.get --only prod && MIX_ENV=prod mix release", 0.7,
                        {path, 0, "mix"});
    s.test_framework.Add("ExUnit", 0.9, {path, 0, "mix"});
    s.test_command.Add("mix test", 0.9, {path, 0, "mix"});
    auto app = text->find("app: :");
    if (app != std::string::npos) {
      std::size_t i = app + 6, j = i;
      while (j < text->size() &&
             (std::isalnum(static_cast<unsigned char>((*text)[j])) || (*text)[j] == '_'))
        ++j;
      if (j > i) s.name = text->substr(i, j - i);
    }
    auto ev = text->find("elixir: \"");
    if (ev != std::string::npos) {
      auto end = text->find('"', ev + 9);
      if (end != std::string::npos) {
        s.runtime_version.Add(
            Json{{"runtime", "elixir"}, {"version", text->substr(ev + 9, end - ev - 9)}}, 0.8,
            {path, LineOf(*text, ev), "elixir"});
      }
    }
    if (text->find("{:phoenix,") != std::string::npos) {
      s.framework.Add("Phoenix", 0.95, At(path, *text, "{:phoenix,"));
      s.kind.Add("web", 0.9, At(path, *text, "{:phoenix,"));
      s.port.Add(4000, 0.3, {path, 0, "Phoenix default port"});
      s.start_command.Add("mix phx.server", 0.6, At(path, *text, "{:phoenix,"));
    } else if (text->find("mod: {") == std::string::npos) {
      s.deployable = false;  // a library: no application callback
    }
    if (text->find("{:ecto_sql,") != std::string::npos) {
      s.migrations.Add(Json{{"tool", "ecto"},
                            {"dir", JoinPath(root, "priv/repo/migrations")},
                            {"command", "mix ecto.migrate"}},
                       0.9, At(path, *text, "{:ecto_sql,"));
    }
    for (const auto& [dep, svc] :
         std::vector<std::pair<std::string, std::string>>{{"{:postgrex,", "postgres"},
                                                          {"{:myxql,", "mysql"},
                                                          {"{:redix,", "redis"},
                                                          {"{:mongodb_driver,", "mongodb"},
                                                          {"{:amqp,", "rabbitmq"},
                                                          {"{:broadway_kafka,", "kafka"},
                                                          {"{:ex_aws_s3,", "s3"}}) {
      if (text->find(dep) != std::string::npos) s.AddBacking(svc, At(path, *text, dep));
    }
  }
}

}  // namespace ps::stages::audit
