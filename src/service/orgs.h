// Orgs, their workspaces, members and API tokens: the rules of who may be
// who in an org (slugs, roles, the last owner), for `prodsprint orgs` and
// the API alike. The caller records the audit line (it knows the request).
#pragma once

#include <string>
#include <vector>

#include "service/app.h"
#include "store/model.h"

namespace ps::service {

// A slug: 1-40 lower-case letters, digits and '-', starting with a letter
// or digit (org and workspace names, as they appear in URLs).
bool IsSlug(const std::string& s);
bool IsRoleName(const std::string& s);

// A new org `slug` with a workspace "default" and `owner_sub` as its owner.
// A Conflict when the slug is taken.
Result<store::Org> CreateOrg(App& app, const std::string& slug, const std::string& owner_sub,
                             const Actor& actor);
Result<store::Workspace> CreateWorkspace(App& app, const store::Org& org, const std::string& name,
                                         const Actor& actor);
// Adds or changes a member (role one of owner, admin, developer, viewer;
// workspaces by name, each must exist). Demoting the last owner is refused.
Result<store::Member> PutMember(App& app, const store::Org& org, const std::string& sub,
                                const std::string& role,
                                const std::vector<std::string>& workspace_names,
                                const Actor& actor);
// Removes a member; the org's last owner stays.
Status RemoveMember(App& app, const store::Org& org, const std::string& sub);

// Stores a token whose secret the caller made (only its hash is given).
Result<store::ApiToken> CreateToken(App& app, const store::Org& org, const std::string& name,
                                    const std::string& role, const std::string& workspace_name,
                                    Millis expires_at, const std::string& hash, const Actor& actor);
Status RevokeToken(App& app, const store::Org& org, const std::string& id);

// One audit line, written by itself (the CLI's org commands).
Status RecordAudit(App& app, const store::Tenant& tenant, const Actor& actor,
                   const std::string& action, const std::string& target, Json meta);

// The audit log's chains checked: every row's hash recomputed and every
// link to the row before it followed. A changed row fails its hash; a
// deleted one breaks the next row's link. (Deleting the newest rows leaves
// a shorter valid chain: compare `head` with one recorded earlier.)
struct ChainReport {
  std::string org_id;  // "" for the server's own entries
  std::int64_t entries = 0;
  std::string head;  // the newest entry's hash
  bool ok = true;
  std::int64_t broken_at = 0;  // the first entry that does not check
  std::string reason;
};
Result<std::vector<ChainReport>> VerifyAudit(App& app);

}  // namespace ps::service
