#include "service/orgs.h"

#include <algorithm>

#include "core/ids.h"

namespace ps::service {

bool IsSlug(const std::string& s) {
  if (s.empty() || s.size() > 40 || s.front() == '-') return false;
  return std::all_of(s.begin(), s.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-';
  });
}

bool IsRoleName(const std::string& s) {
  return s == "owner" || s == "admin" || s == "developer" || s == "viewer";
}

namespace {

Status CheckSub(const std::string& sub) {
  if (sub.empty() || sub.size() > 255) {
    return problems::InvalidInput("a member is named by a subject of 1 to 255 characters");
  }
  for (unsigned char c : sub) {
    if (c < 0x20 || c == 0x7f) return problems::InvalidInput("a subject has no control characters");
  }
  return Ok();
}

Status CheckRole(const std::string& role) {
  if (!IsRoleName(role)) {
    return problems::InvalidInput("role must be owner, admin, developer or viewer, not '" + role +
                                  "'");
  }
  return Ok();
}

int Owners(const std::vector<store::Member>& members) {
  return static_cast<int>(std::count_if(members.begin(), members.end(),
                                        [](const auto& m) { return m.role == "owner"; }));
}

}  // namespace

Result<store::Org> CreateOrg(App& app, const std::string& slug, const std::string& owner_sub,
                             const Actor& actor) {
  if (!IsSlug(slug)) {
    return problems::InvalidInput("an org's name is 1-40 lower-case letters, digits and '-': '" +
                                  slug + "' is not");
  }
  PS_TRY(CheckSub(owner_sub));
  return store::WriteValue<store::Org>(app.store, [&](store::Tx& tx) -> Result<store::Org> {
    if (tx.FindOrgByName(slug).ok()) return problems::Conflict("the org '" + slug + "' exists");
    const Millis now = app.clock.Now();
    store::Org org{NewId(app.clock, app.random), slug, "free", now};
    PS_TRY(tx.CreateOrg(org));
    PS_TRY(tx.CreateWorkspace({NewId(app.clock, app.random), org.id, "default", "", now}));
    PS_TRY(tx.PutMember({org.id, owner_sub, "owner", {}, actor.id, now}));
    return org;
  });
}

Result<store::Workspace> CreateWorkspace(App& app, const store::Org& org, const std::string& name,
                                         const Actor& actor) {
  if (!IsSlug(name)) {
    return problems::InvalidInput(
        "a workspace's name is 1-40 lower-case letters, digits and '-': '" + name + "' is not");
  }
  return store::WriteValue<store::Workspace>(
      app.store, [&](store::Tx& tx) -> Result<store::Workspace> {
        if (tx.FindWorkspaceByName(org.id, name).ok()) {
          return problems::Conflict("the workspace '" + org.name + "/" + name + "' exists");
        }
        // created_by references users(id); members are subjects, not users.
        store::Workspace ws{NewId(app.clock, app.random), org.id, name, "", app.clock.Now()};
        PS_TRY(tx.CreateWorkspace(ws));
        (void)actor;
        return ws;
      });
}

Result<store::Member> PutMember(App& app, const store::Org& org, const std::string& sub,
                                const std::string& role,
                                const std::vector<std::string>& workspace_names,
                                const Actor& actor) {
  PS_TRY(CheckSub(sub));
  PS_TRY(CheckRole(role));
  return store::WriteValue<store::Member>(app.store, [&](store::Tx& tx) -> Result<store::Member> {
    store::Member m{org.id, sub, role, {}, actor.id, app.clock.Now()};
    for (const auto& name : workspace_names) {
      auto ws = tx.FindWorkspaceByName(org.id, name);
      if (!ws.ok()) {
        return problems::InvalidInput("the org has no workspace '" + name + "'");
      }
      m.workspaces.push_back(ws->id);
    }
    PS_ASSIGN(auto members, tx.ListMembers(org.id));
    auto old =
        std::find_if(members.begin(), members.end(), [&](const auto& x) { return x.sub == sub; });
    if (old != members.end() && old->role == "owner" && role != "owner" && Owners(members) == 1) {
      return problems::Conflict("'" + sub + "' is the org's last owner; make another owner first");
    }
    if (old != members.end()) m.created_at = old->created_at;
    PS_TRY(tx.PutMember(m));
    return m;
  });
}

Status RemoveMember(App& app, const store::Org& org, const std::string& sub) {
  return app.store.Write([&](store::Tx& tx) -> Status {
    PS_ASSIGN(auto members, tx.ListMembers(org.id));
    auto old =
        std::find_if(members.begin(), members.end(), [&](const auto& x) { return x.sub == sub; });
    if (old == members.end()) return problems::NotFound("member", sub);
    if (old->role == "owner" && Owners(members) == 1) {
      return problems::Conflict("'" + sub + "' is the org's last owner; make another owner first");
    }
    return tx.DeleteMember(org.id, sub);
  });
}

Result<store::ApiToken> CreateToken(App& app, const store::Org& org, const std::string& name,
                                    const std::string& role, const std::string& workspace_name,
                                    Millis expires_at, const std::string& hash,
                                    const Actor& actor) {
  if (name.empty() || name.size() > 100) {
    return problems::InvalidInput("a token's name is 1 to 100 characters");
  }
  PS_TRY(CheckRole(role));
  const Millis now = app.clock.Now();
  if (expires_at != 0 && expires_at <= now) {
    return problems::InvalidInput("the token would expire before it is made");
  }
  return store::WriteValue<store::ApiToken>(
      app.store, [&](store::Tx& tx) -> Result<store::ApiToken> {
        store::ApiToken t;
        t.id = NewId(app.clock, app.random);
        t.org_id = org.id;
        t.name = name;
        t.role = role;
        if (!workspace_name.empty()) {
          auto ws = tx.FindWorkspaceByName(org.id, workspace_name);
          if (!ws.ok())
            return problems::InvalidInput("the org has no workspace '" + workspace_name + "'");
          t.workspace_id = ws->id;
        }
        t.hash = hash;
        t.created_by = actor.id;
        t.created_at = now;
        t.expires_at = expires_at;
        PS_TRY(tx.CreateApiToken(t));
        return t;
      });
}

Status RevokeToken(App& app, const store::Org& org, const std::string& id) {
  return app.store.Write([&](store::Tx& tx) -> Status {
    PS_ASSIGN(store::ApiToken t, tx.GetApiToken(org.id, id));
    if (t.revoked_at == 0) t.revoked_at = app.clock.Now();
    return tx.UpdateApiToken(t);
  });
}

Status RecordAudit(App& app, const store::Tenant& tenant, const Actor& actor,
                   const std::string& action, const std::string& target, Json meta) {
  store::AuditEntry e;
  e.tenant = tenant;
  e.user_id = actor.id;
  e.action = action;
  e.target = target;
  e.meta = std::move(meta);
  e.created_at = app.clock.Now();
  return app.store.Write([&](store::Tx& tx) -> Status {
    PS_TRY(tx.AppendAudit(e));
    return Ok();
  });
}

Result<std::vector<ChainReport>> VerifyAudit(App& app) {
  PS_ASSIGN(auto chains, store::ReadValue<std::vector<std::string>>(
                             app.store, [](store::Tx& tx) { return tx.AuditChains(); }));
  std::vector<ChainReport> out;
  for (const auto& org : chains) {
    ChainReport r;
    r.org_id = org;
    store::AuditQuery q;
    q.org_id = org;
    q.limit = 1000;
    std::string prev;
    for (;;) {
      PS_ASSIGN(auto page, store::ReadValue<std::vector<store::AuditEntry>>(
                               app.store, [&](store::Tx& tx) { return tx.QueryAudit(q); }));
      for (const auto& e : page) {
        ++r.entries;
        if (r.ok && e.prev_hash != prev) {
          r.ok = false;
          r.broken_at = e.id;
          r.reason =
              "its link to the entry before does not match: an entry was deleted or "
              "changed before it";
        } else if (r.ok && e.hash != store::AuditHash(e)) {
          r.ok = false;
          r.broken_at = e.id;
          r.reason = "its content does not match its hash: the entry was changed";
        }
        prev = e.hash;
        q.after_id = e.id;
      }
      if (static_cast<int>(page.size()) < q.limit) break;
    }
    r.head = prev;
    out.push_back(std::move(r));
  }
  return out;
}

}  // namespace ps::service
