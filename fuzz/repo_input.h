// The input format the repository fuzz targets share: a small repository as
// chunks separated by "\n===\n", each a file whose name is chosen by the
// chunk's first byte (so that seeds stay meaningful as names are added at
// the end of the list).
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <string>

namespace ps::fuzz {

inline const char* const kNames[] = {
    "package.json",
    "pyproject.toml",
    "requirements.txt",
    "Pipfile",
    "go.mod",
    "Dockerfile",
    "compose.yaml",
    "Procfile",
    ".env.example",
    "main.py",
    "server.js",
    "cmd/api/main.go",
    "alembic.ini",
    "prisma/schema.prisma",
    ".nvmrc",
    "manage.py",
    "apps/web/package.json",
    "docker-compose.yml",
    ".tool-versions",
    "app/settings.py",
    "pnpm-workspace.yaml",
    "runtime.txt",
    "src/index.ts",
    "Dockerfile.prod",
    "Gemfile",
    "composer.json",
    "pom.xml",
    "build.gradle.kts",
    "Api/Api.csproj",
    "Cargo.toml",
    "mix.exs",
    "global.json",
    "src/main/resources/application.properties",
    "rust-toolchain.toml",
    "config/app.rb",
    "src/main.rs",
    "k8s/deployment.yaml",
    "nx.json",
    "apps/api/project.json",
    "settings.gradle.kts",
    "api/build.gradle.kts",
    "deploy/chart/Chart.yaml",
    "deploy/chart/values.yaml",
    "bin/tool",
    "orders/pom.xml",
    "prodsprint-usage.yml",
    "prodsprint.yaml",
    "render.yaml",
    "contrib/app-worker.service",
    "tsconfig.base.json",
    "libs/db/src/index.ts",
    "Api/appsettings.json",
    "Api/appsettings.Development.json",
    "Api/Program.cs",
    "supabase/migrations/0001_init.sql",
    "manifest.json",
    "src/main/java/App.java",
    "example.env",
    "apps/worker/src/main.ts",
};

inline std::map<std::string, std::string> RepoFromInput(const std::uint8_t* data,
                                                        std::size_t size) {
  std::string input(reinterpret_cast<const char*>(data), size);
  std::map<std::string, std::string> files;
  std::size_t pos = 0;
  while (pos < input.size()) {
    auto next = input.find("\n===\n", pos);
    std::string chunk =
        input.substr(pos, next == std::string::npos ? std::string::npos : next - pos);
    if (!chunk.empty()) {
      const auto idx = static_cast<unsigned char>(chunk[0]) % (sizeof kNames / sizeof kNames[0]);
      files[kNames[idx]] = chunk.substr(1);
    }
    if (next == std::string::npos) break;
    pos = next + 5;
  }
  return files;
}

}  // namespace ps::fuzz
