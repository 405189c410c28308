// `prodsprint config`: the effective configuration, and `config check`.
#include <functional>
#include <iostream>

#include "cli/command.h"

namespace ps::cli {
namespace {

Result<int> CmdConfig(const Options& o, bool json, const std::string& check) {
  fs::path path =
      !check.empty() ? fs::path(check) : fs::path(o.config.empty() ? "prodsprint.yaml" : o.config);
  std::error_code ec;
  if (!check.empty() && !fs::exists(path, ec))
    return problems::NotFound("configuration file", check);
  PS_ASSIGN(Config c, LoadConfig(path.string(), check.empty() && o.config.empty()));
  if (json) {
    Json out = c.ToJson();
    out["_origin"] = c.origin;
    out["_file"] = c.file;
    std::cout << Dump(out, 2) << std::endl;
    return kExitOk;
  }
  if (!check.empty()) {
    std::cout << path.string() << ": valid\n";
    return kExitOk;
  }
  std::cout << "# effective configuration"
            << (c.file.empty() ? " (no prodsprint.yaml: defaults)" : " from " + c.file) << "\n";
  std::function<void(const Json&, const std::string&, int)> dump =
      [&](const Json& j, const std::string& prefix, int depth) {
        for (const auto& [k, v] : j.items()) {
          const std::string path_key = prefix.empty() ? k : prefix + "." + k;
          std::cout << std::string(static_cast<std::size_t>(depth) * 2, ' ') << k << ":";
          if (v.is_object()) {
            std::cout << (v.empty() ? " {}" : "") << "\n";
            dump(v, path_key, depth + 1);
          } else {
            std::cout << " " << (v.is_string() ? v.get<std::string>() : Dump(v));
            auto it = c.origin.find(path_key);
            if (it != c.origin.end()) std::cout << "   # " << it->second;
            std::cout << "\n";
          }
        }
      };
  dump(c.ToJson(), "", 0);
  return kExitOk;
}

}  // namespace

void RegisterConfig(Commands& commands) {
  auto file = std::make_shared<std::string>();
  auto json = std::make_shared<bool>(false);
  auto* config = commands.app().add_subcommand(
      "config", "Show the effective configuration and where each value came from");
  config->add_flag("--json", *json, "Machine-readable output");
  auto* check = config->add_subcommand("check", "Validate a prodsprint.yaml");
  check->add_option("FILE", *file, "The file to check")->required();
  check->add_flag("--json", *json, "Machine-readable output");
  const Options& o = commands.options();
  commands.Add(
      config, [&o, file, json, check] { return CmdConfig(o, *json, check->parsed() ? *file : ""); },
      json);
}

}  // namespace ps::cli
