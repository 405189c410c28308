#include "store/tenancy.h"

#include "core/ids.h"

namespace ps::store {

Result<Tenant> FindTenant(Store& store, const std::string& org_name,
                          const std::string& workspace_name) {
  return ReadValue<Tenant>(store, [&](Tx& tx) -> Result<Tenant> {
    PS_ASSIGN(Org org, tx.FindOrgByName(org_name));
    PS_ASSIGN(Workspace ws, tx.FindWorkspaceByName(org.id, workspace_name));
    return Tenant{org.id, ws.id};
  });
}

Result<Tenant> EnsureTenant(Store& store, const std::string& org_name,
                            const std::string& workspace_name, Clock& clock, Random& random) {
  auto found = FindTenant(store, org_name, workspace_name);
  if (found.ok() || !found.problem().Is("not-found")) return found;
  return WriteValue<Tenant>(store, [&](Tx& tx) -> Result<Tenant> {
    Org org;
    auto existing = tx.FindOrgByName(org_name);
    if (existing.ok()) {
      org = *existing;
    } else {
      org = Org{NewId(clock, random), org_name, "free", clock.Now()};
      PS_TRY(tx.CreateOrg(org));
    }
    auto ws = tx.FindWorkspaceByName(org.id, workspace_name);
    if (ws.ok()) return Tenant{org.id, ws->id};
    Workspace w{NewId(clock, random), org.id, workspace_name, "", clock.Now()};
    PS_TRY(tx.CreateWorkspace(w));
    return Tenant{org.id, w.id};
  });
}

}  // namespace ps::store
