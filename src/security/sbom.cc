#include "security/sbom.h"

#include <cctype>

#include "core/fs.h"

namespace ps::security {
namespace {

std::size_t HexLength(const std::string& alg) {
  if (alg == "SHA-1") return 40;
  if (alg == "SHA-256") return 64;
  if (alg == "SHA-384") return 96;
  if (alg == "SHA-512") return 128;
  return 0;
}

bool IsHex(const std::string& s) {
  for (char c : s) {
    if (!std::isxdigit(static_cast<unsigned char>(c))) return false;
  }
  return true;
}

// The licenses of a component as one SPDX expression ("" when none or when
// one of them is free text, which `names` then receives).
std::string LicenseExpression(const std::set<std::string>& licenses,
                              std::vector<std::string>* names) {
  std::string expr;
  bool all_spdx = true;
  for (const auto& l : licenses) {
    if (!LooksLikeSpdxExpression(l)) {
      all_spdx = false;
      if (names) names->push_back(l);
    }
  }
  if (!all_spdx || licenses.empty()) return {};
  // Several declared licenses (Composer's list) are a choice between them.
  for (const auto& l : licenses) {
    const bool compound = l.find(' ') != std::string::npos;
    if (!expr.empty()) expr += " OR ";
    expr += compound && licenses.size() > 1 ? "(" + l + ")" : l;
  }
  return expr;
}

// "@scope/pkg" -> group "@scope", "group:artifact" -> "group".
std::pair<std::string, std::string> GroupAndName(const Component& c) {
  if (c.ecosystem == "Maven") {
    auto colon = c.name.find(':');
    if (colon != std::string::npos) return {c.name.substr(0, colon), c.name.substr(colon + 1)};
  }
  if ((c.ecosystem == "npm" && !c.name.empty() && c.name[0] == '@') || c.ecosystem == "Packagist" ||
      c.ecosystem == "Go") {
    auto slash = c.name.rfind('/');
    if (c.ecosystem != "Go") slash = c.name.find('/');
    if (slash != std::string::npos) return {c.name.substr(0, slash), c.name.substr(slash + 1)};
  }
  return {"", c.name};
}

std::set<std::string> DirectPurls(const DependencyGraph& g) {
  std::set<std::string> out;
  for (const auto& c : g.components) {
    if (c.direct) out.insert(c.purl);
  }
  return out;
}

}  // namespace

bool LooksLikeSpdxExpression(std::string_view s) {
  if (s.empty() || s.size() > 512) return false;
  int depth = 0;
  bool expect_id = true;
  std::size_t i = 0;
  while (i < s.size()) {
    const char ch = s[i];
    if (ch == ' ') {
      ++i;
      continue;
    }
    if (ch == '(') {
      if (!expect_id) return false;
      ++depth, ++i;
      continue;
    }
    if (ch == ')') {
      if (expect_id || --depth < 0) return false;
      ++i;
      continue;
    }
    const std::size_t b = i;
    while (i < s.size() && (std::isalnum(static_cast<unsigned char>(s[i])) || s[i] == '.' ||
                            s[i] == '-' || s[i] == '+' || s[i] == ':')) {
      ++i;
    }
    if (i == b) return false;
    const std::string_view word = s.substr(b, i - b);
    const bool op = word == "AND" || word == "OR" || word == "WITH";
    if (op == expect_id) return false;
    expect_id = op;
  }
  return !expect_id && depth == 0;
}

std::string UuidFromSeed(std::string_view seed) {
  std::string h = Sha256Hex(seed).substr(0, 32);
  h[12] = '5';
  static const char* kVariant = "89ab";
  h[16] = kVariant[std::stoi(h.substr(16, 1), nullptr, 16) & 3];
  return h.substr(0, 8) + "-" + h.substr(8, 4) + "-" + h.substr(12, 4) + "-" + h.substr(16, 4) +
         "-" + h.substr(20, 12);
}

Json CycloneDxBom(const DependencyGraph& g, const SbomSubject& subject) {
  std::string seed = subject.name + "@" + subject.version;
  for (const auto& c : g.components) seed += "\n" + c.purl;
  Json project = {{"type", "application"}, {"bom-ref", "project"}, {"name", subject.name}};
  if (!subject.version.empty()) project["version"] = subject.version;
  if (!subject.license.empty() && LooksLikeSpdxExpression(subject.license)) {
    project["licenses"] = Json::array({{{"expression", subject.license}}});
  }
  Json components = Json::array();
  Json dependencies = Json::array();
  for (const auto& c : g.components) {
    auto [group, name] = GroupAndName(c);
    Json j = {{"type", "library"}, {"bom-ref", c.purl}, {"name", name}, {"purl", c.purl}};
    if (!group.empty()) j["group"] = group;
    if (!c.version.empty()) j["version"] = c.version;
    j["scope"] = c.dev ? "optional" : "required";
    Json hashes = Json::array();
    for (const auto& [alg, hex] : c.hashes) {
      if (hex.size() == HexLength(alg) && IsHex(hex))
        hashes.push_back({{"alg", alg}, {"content", hex}});
    }
    if (!hashes.empty()) j["hashes"] = hashes;
    std::vector<std::string> names;
    const std::string expr = LicenseExpression(c.licenses, &names);
    if (!expr.empty()) {
      j["licenses"] = Json::array({{{"expression", expr}}});
    } else if (!names.empty()) {
      Json lic = Json::array();
      for (const auto& n : names) lic.push_back({{"license", {{"name", n}}}});
      j["licenses"] = lic;
    }
    Json props =
        Json::array({{{"name", "prodsprint:direct"}, {"value", c.direct ? "true" : "false"}},
                     {{"name", "prodsprint:ecosystem"}, {"value", c.ecosystem}}});
    for (const auto& s : c.sources) props.push_back({{"name", "prodsprint:source"}, {"value", s}});
    j["properties"] = props;
    components.push_back(j);
    dependencies.push_back(
        {{"ref", c.purl},
         {"dependsOn", Json(std::vector<std::string>(c.depends_on.begin(), c.depends_on.end()))}});
  }
  const auto direct = DirectPurls(g);
  dependencies.insert(
      dependencies.begin(),
      Json{{"ref", "project"},
           {"dependsOn", Json(std::vector<std::string>(direct.begin(), direct.end()))}});
  return {{"$schema", "http://cyclonedx.org/schema/bom-1.5.schema.json"},
          {"bomFormat", "CycloneDX"},
          {"specVersion", "1.5"},
          {"serialNumber", "urn:uuid:" + UuidFromSeed(seed)},
          {"version", 1},
          {"metadata",
           {{"timestamp", subject.timestamp},
            {"tools",
             {{"components", Json::array({{{"type", "application"},
                                           {"author", "ProdSprint"},
                                           {"name", "prodsprint"},
                                           {"version", PS_VERSION}}})}}},
            {"component", project}}},
          {"components", components},
          {"dependencies", dependencies}};
}

Json SpdxDocument(const DependencyGraph& g, const SbomSubject& subject) {
  std::string seed = "spdx:" + subject.name + "@" + subject.version;
  for (const auto& c : g.components) seed += "\n" + c.purl;
  auto spdx_id = [](std::size_t i, const std::string& name) {
    std::string id = "SPDXRef-Package-" + std::to_string(i) + "-";
    for (char ch : name) {
      id += (std::isalnum(static_cast<unsigned char>(ch)) || ch == '.' || ch == '-') ? ch : '-';
    }
    return id;
  };
  Json packages = Json::array();
  Json project = {{"SPDXID", "SPDXRef-Project"},
                  {"name", subject.name},
                  {"downloadLocation", "NOASSERTION"},
                  {"filesAnalyzed", false},
                  {"licenseConcluded", "NOASSERTION"},
                  {"licenseDeclared",
                   LooksLikeSpdxExpression(subject.license) ? subject.license : "NOASSERTION"},
                  {"copyrightText", "NOASSERTION"},
                  {"primaryPackagePurpose", "APPLICATION"}};
  if (!subject.version.empty()) project["versionInfo"] = subject.version;
  packages.push_back(project);
  Json rels = Json::array({{{"spdxElementId", "SPDXRef-DOCUMENT"},
                            {"relationshipType", "DESCRIBES"},
                            {"relatedSpdxElement", "SPDXRef-Project"}}});
  std::map<std::string, std::string> id_of;
  for (std::size_t i = 0; i < g.components.size(); ++i)
    id_of[g.components[i].purl] = spdx_id(i + 1, g.components[i].name);
  static const std::map<std::string, std::string> kAlg = {
      {"SHA-1", "SHA1"}, {"SHA-256", "SHA256"}, {"SHA-384", "SHA384"}, {"SHA-512", "SHA512"}};
  for (const auto& c : g.components) {
    Json p = {{"SPDXID", id_of[c.purl]},
              {"name", c.name},
              {"downloadLocation", "NOASSERTION"},
              {"filesAnalyzed", false},
              {"licenseConcluded", "NOASSERTION"},
              {"copyrightText", "NOASSERTION"},
              {"primaryPackagePurpose", "LIBRARY"},
              {"externalRefs", Json::array({{{"referenceCategory", "PACKAGE-MANAGER"},
                                             {"referenceType", "purl"},
                                             {"referenceLocator", c.purl}}})}};
    if (!c.version.empty()) p["versionInfo"] = c.version;
    const std::string expr = LicenseExpression(c.licenses, nullptr);
    p["licenseDeclared"] = expr.empty() ? "NOASSERTION" : expr;
    Json sums = Json::array();
    for (const auto& [alg, hex] : c.hashes) {
      if (hex.size() == HexLength(alg) && IsHex(hex)) {
        sums.push_back({{"algorithm", kAlg.at(alg)}, {"checksumValue", hex}});
      }
    }
    if (!sums.empty()) p["checksums"] = sums;
    packages.push_back(p);
    if (c.direct) {
      if (c.dev) {
        rels.push_back({{"spdxElementId", id_of[c.purl]},
                        {"relationshipType", "DEV_DEPENDENCY_OF"},
                        {"relatedSpdxElement", "SPDXRef-Project"}});
      } else {
        rels.push_back({{"spdxElementId", "SPDXRef-Project"},
                        {"relationshipType", "DEPENDS_ON"},
                        {"relatedSpdxElement", id_of[c.purl]}});
      }
    }
    for (const auto& d : c.depends_on) {
      auto it = id_of.find(d);
      if (it == id_of.end()) continue;
      rels.push_back({{"spdxElementId", id_of[c.purl]},
                      {"relationshipType", "DEPENDS_ON"},
                      {"relatedSpdxElement", it->second}});
    }
  }
  std::string safe_name;
  for (char ch : subject.name) safe_name += std::isalnum(static_cast<unsigned char>(ch)) ? ch : '-';
  return {{"spdxVersion", "SPDX-2.3"},
          {"dataLicense", "CC0-1.0"},
          {"SPDXID", "SPDXRef-DOCUMENT"},
          {"name", subject.name + (subject.version.empty() ? "" : "@" + subject.version)},
          {"documentNamespace", "https://prodsprint.dev/spdxdocs/" +
                                    (safe_name.empty() ? "project" : safe_name) + "-" +
                                    UuidFromSeed(seed)},
          {"creationInfo",
           {{"created", subject.timestamp},
            {"creators", Json::array({std::string("Tool: prodsprint-") + PS_VERSION})}}},
          {"packages", packages},
          {"relationships", rels}};
}

}  // namespace ps::security
