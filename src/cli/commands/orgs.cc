// `prodsprint orgs`: bootstrap the server's orgs from its own state (the
// first owner); members and tokens are managed through the API after that.
#include <iostream>

#include "cli/command.h"
#include "service/orgs.h"
#include "store/model_json.h"

namespace ps::cli {
namespace {

Result<int> CmdOrgsCreate(const Options& o, const std::string& slug, const std::string& owner,
                          bool json) {
  PS_ASSIGN(auto s, OpenSession(o, "prodsprint.yaml", true));
  auto app = s->App();
  PS_ASSIGN(store::Org org, service::CreateOrg(app, slug, owner, Who()));
  PS_TRY(service::RecordAudit(app, {org.id, ""}, Who(), "org.create", "org:" + org.id,
                              {{"name", slug}, {"owner", owner}}));
  if (json) {
    Json out = store::ToJson(org);
    out["owner"] = owner;
    out["workspaces"] = {"default"};
    std::cout << Dump(out, 2) << std::endl;
  } else {
    std::cout << "created org '" << slug << "' (workspace '" << slug << "/default'), owner '"
              << owner << "'\n";
  }
  return kExitOk;
}

}  // namespace

void RegisterOrgs(Commands& commands) {
  struct Args {
    std::string slug, owner;
  };
  auto a = std::make_shared<Args>();
  auto json = std::make_shared<bool>(false);
  auto* orgs = commands.app().add_subcommand(
      "orgs",
      "Orgs of the server's state: create one with its first owner (then manage members\n"
      "and API tokens through the API: POST /v1/orgs/ORG/members, /tokens).");
  orgs->require_subcommand(1, 1);
  auto* create = orgs->add_subcommand(
      "create",
      "Create an org SLUG with a workspace 'default' and SUB (the identity provider's\n"
      "subject of a person) as its owner.");
  create->add_option("SLUG", a->slug, "The org's name: lower-case letters, digits and '-'")
      ->required();
  create->add_option("--owner", a->owner, "The owner's OIDC subject (the token's 'sub')")
      ->required();
  create->add_flag("--json", *json, "The org as JSON");
  const Options& o = commands.options();
  commands.Add(
      create, [&o, a, json] { return CmdOrgsCreate(o, a->slug, a->owner, *json); }, json);
}

}  // namespace ps::cli
