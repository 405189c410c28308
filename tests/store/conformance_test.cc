#include "store/conformance.h"

#include <set>

#include "core/ids.h"

namespace ps::store {

void StoreConformance::SetUp() { store_ = GetParam().make(dir_.path()); }

std::string StoreConformance::Id() { return NewId(clock_, random_); }

StoreConformance::TenantFixture StoreConformance::MakeTenant(const std::string& name) {
  TenantFixture f;
  Org org{Id(), name, "free", clock_.Now()};
  Workspace ws{Id(), org.id, "main", "", clock_.Now()};
  Project p;
  p.id = Id();
  p.tenant = {org.id, ws.id};
  p.name = name + "-app";
  p.repo_url = "/src/" + name;
  p.created_at = p.updated_at = clock_.Now();
  EXPECT_TRUE(store_
                  ->Write([&](Tx& tx) -> Status {
                    PS_TRY(tx.CreateOrg(org));
                    PS_TRY(tx.CreateWorkspace(ws));
                    PS_TRY(tx.CreateProject(p));
                    return Ok();
                  })
                  .ok());
  f.tenant = p.tenant;
  f.project_id = p.id;
  return f;
}

namespace {

store::Run MakeRun(const std::string& id, const Tenant& t, const std::string& project, Millis now) {
  store::Run r;
  r.id = id;
  r.tenant = t;
  r.project_id = project;
  r.kind = RunKind::kReadiness;
  r.logs_ref = "logs/" + id;
  r.input = {{"path", "/src"}};
  r.created_at = r.updated_at = now;
  return r;
}

StageRow MakeStage(const Run& r, const std::string& name, int pos, StageStatus st, Millis nb) {
  StageRow s;
  s.run_id = r.id;
  s.tenant = r.tenant;
  s.project_id = r.project_id;
  s.name = name;
  s.position = pos;
  s.status = st;
  s.max_attempts = 3;
  s.timeout_ms = 60'000;
  s.not_before = nb;
  return s;
}

}  // namespace

TEST_P(StoreConformance, OrgsUsersWorkspaces) {
  Org org{Id(), "acme", "team", 5};
  User u{Id(), org.id, "Dev@Acme.io", "Dev", "admin", "Europe/Paris", 6};
  Workspace ws{Id(), org.id, "prod", u.id, 7};
  ASSERT_TRUE(store_
                  ->Write([&](Tx& tx) -> Status {
                    PS_TRY(tx.CreateOrg(org));
                    PS_TRY(tx.CreateUser(u));
                    PS_TRY(tx.CreateWorkspace(ws));
                    return Ok();
                  })
                  .ok());
  ASSERT_TRUE(store_
                  ->Read([&](Tx& tx) -> Status {
                    EXPECT_EQ(tx.GetOrg(org.id)->plan, "team");
                    EXPECT_EQ(tx.FindOrgByName("acme")->id, org.id);
                    EXPECT_EQ(tx.GetUser(org.id, u.id)->tz, "Europe/Paris");
                    EXPECT_EQ(tx.GetWorkspace(org.id, ws.id)->created_by, u.id);
                    EXPECT_EQ(tx.FindWorkspaceByName(org.id, "prod")->id, ws.id);
                    EXPECT_TRUE(tx.GetUser("other-org", u.id).problem().Is("not-found"));
                    EXPECT_TRUE(tx.GetWorkspace("other-org", ws.id).problem().Is("not-found"));
                    return Ok();
                  })
                  .ok());
  // Emails are unique, case-insensitively (CITEXT in the brief).
  User dup{Id(), org.id, "dev@acme.io", "", "member", "UTC", 8};
  auto st = store_->Write([&](Tx& tx) { return tx.CreateUser(dup); });
  ASSERT_FALSE(st.ok());
  EXPECT_TRUE(st.problem().Is("conflict"));
  // Roles are an enum.
  User bad{Id(), org.id, "x@acme.io", "", "god", "UTC", 8};
  EXPECT_FALSE(store_->Write([&](Tx& tx) { return tx.CreateUser(bad); }).ok());
}

TEST_P(StoreConformance, ProjectsAreScopedByTenant) {
  auto a = MakeTenant("a");
  auto b = MakeTenant("b");
  ASSERT_TRUE(store_
                  ->Read([&](Tx& tx) -> Status {
                    EXPECT_TRUE(tx.GetProject(a.tenant, a.project_id).ok());
                    EXPECT_TRUE(tx.GetProject(b.tenant, a.project_id).problem().Is("not-found"));
                    EXPECT_EQ(tx.ListProjects(a.tenant)->size(), 1u);
                    EXPECT_EQ(tx.FindProjectByRepo(a.tenant, "/src/a")->id, a.project_id);
                    EXPECT_FALSE(tx.FindProjectByRepo(b.tenant, "/src/a").ok());
                    return Ok();
                  })
                  .ok());
  // Another tenant cannot change the project.
  auto p =
      *ReadValue<Project>(*store_, [&](Tx& tx) { return tx.GetProject(a.tenant, a.project_id); });
  Project hijack = p;
  hijack.tenant = b.tenant;
  hijack.name = "stolen";
  auto st = store_->Write([&](Tx& tx) { return tx.UpdateProject(hijack); });
  EXPECT_TRUE(st.problem().Is("not-found"));
  p.state = "imported";
  p.target = "local";
  ASSERT_TRUE(store_->Write([&](Tx& tx) { return tx.UpdateProject(p); }).ok());
  auto back =
      ReadValue<Project>(*store_, [&](Tx& tx) { return tx.GetProject(a.tenant, a.project_id); });
  EXPECT_EQ(back->name, "a-app");
  EXPECT_EQ(back->state, "imported");
  // A project in a workspace that does not exist is refused.
  Project orphan = p;
  orphan.id = Id();
  orphan.repo_url = "/src/orphan";
  orphan.tenant.workspace_id = "nope";
  EXPECT_TRUE(
      store_->Write([&](Tx& tx) { return tx.CreateProject(orphan); }).problem().Is("not-found"));
}

TEST_P(StoreConformance, Integrations) {
  auto a = MakeTenant("a");
  auto b = MakeTenant("b");
  Integration i{a.project_id, "github", "kms://x", {"repo", "workflow"}};
  ASSERT_TRUE(store_->Write([&](Tx& tx) { return tx.PutIntegration(a.tenant, i); }).ok());
  i.scopes = {"repo"};
  ASSERT_TRUE(store_->Write([&](Tx& tx) { return tx.PutIntegration(a.tenant, i); }).ok());
  auto list = ReadValue<std::vector<Integration>>(
      *store_, [&](Tx& tx) { return tx.ListIntegrations(a.tenant, a.project_id); });
  ASSERT_EQ(list->size(), 1u);
  EXPECT_EQ(list->front().scopes, std::vector<std::string>{"repo"});
  EXPECT_FALSE(store_->Write([&](Tx& tx) { return tx.PutIntegration(b.tenant, i); }).ok());
}

TEST_P(StoreConformance, RunsRoundTripAndStayInTheirTenant) {
  auto a = MakeTenant("a");
  auto b = MakeTenant("b");
  store::Run r = MakeRun(Id(), a.tenant, a.project_id, clock_.Now());
  ASSERT_TRUE(store_->Write([&](Tx& tx) { return tx.CreateRun(r); }).ok());
  // A run for another tenant's project is refused.
  store::Run cross = MakeRun(Id(), b.tenant, a.project_id, clock_.Now());
  EXPECT_FALSE(store_->Write([&](Tx& tx) { return tx.CreateRun(cross); }).ok());

  r.status = RunStatus::kError;
  r.metrics = {{"source", {{"duration_ms", 12}}}};
  r.policy_result = {{"security", "passed"}};
  r.error = problems::Timeout("x").ToJson();
  r.cancel_requested = true;
  r.attempt = 2;
  ASSERT_TRUE(store_->Write([&](Tx& tx) { return tx.UpdateRun(r); }).ok());
  auto got = ReadValue<store::Run>(*store_, [&](Tx& tx) { return tx.GetRun(a.tenant, r.id); });
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(got->status, RunStatus::kError);
  EXPECT_EQ(got->kind, RunKind::kReadiness);
  EXPECT_EQ(got->metrics["source"]["duration_ms"], 12);
  EXPECT_EQ(got->policy_result["security"], "passed");
  EXPECT_EQ(got->error["title"], "Timed out");
  EXPECT_EQ(got->input["path"], "/src");
  EXPECT_TRUE(got->cancel_requested);
  EXPECT_EQ(got->attempt, 2);
  EXPECT_TRUE(ReadValue<store::Run>(*store_, [&](Tx& tx) { return tx.GetRun(b.tenant, r.id); })
                  .problem()
                  .Is("not-found"));
  store::Run other = r;
  other.tenant = b.tenant;
  EXPECT_TRUE(store_->Write([&](Tx& tx) { return tx.UpdateRun(other); }).problem().Is("not-found"));
}

TEST_P(StoreConformance, ListRunsNewestFirstAndFindByPrefix) {
  auto a = MakeTenant("a");
  std::vector<std::string> ids;
  for (int i = 0; i < 5; ++i) {
    clock_.Advance(10);
    store::Run r = MakeRun(Id(), a.tenant, a.project_id, clock_.Now());
    ids.push_back(r.id);
    ASSERT_TRUE(store_->Write([&](Tx& tx) { return tx.CreateRun(r); }).ok());
  }
  auto list = ReadValue<std::vector<store::Run>>(*store_, [&](Tx& tx) {
    return tx.ListRuns(a.tenant, {a.project_id, 3});
  });
  ASSERT_EQ(list->size(), 3u);
  EXPECT_EQ(list->front().id, ids.back());
  auto found = ReadValue<std::vector<store::Run>>(
      *store_, [&](Tx& tx) { return tx.FindRuns(a.tenant, ids[2].substr(0, 30)); });
  ASSERT_EQ(found->size(), 1u);
  EXPECT_EQ(found->front().id, ids[2]);
  auto b = MakeTenant("b");
  EXPECT_TRUE(ReadValue<std::vector<store::Run>>(*store_, [&](Tx& tx) {
                return tx.FindRuns(b.tenant, ids[2]);
              })->empty());
}

TEST_P(StoreConformance, StagesClaimableInOrderAndLeasesExpire) {
  auto a = MakeTenant("a");
  store::Run r = MakeRun(Id(), a.tenant, a.project_id, clock_.Now());
  const Millis now = clock_.Now();
  ASSERT_TRUE(store_
                  ->Write([&](Tx& tx) -> Status {
                    PS_TRY(tx.CreateRun(r));
                    PS_TRY(tx.InsertStage(MakeStage(r, "test", 0, StageStatus::kReady, now)));
                    PS_TRY(tx.InsertStage(MakeStage(r, "security", 1, StageStatus::kReady, now)));
                    PS_TRY(
                        tx.InsertStage(MakeStage(r, "later", 2, StageStatus::kReady, now + 500)));
                    auto blocked = MakeStage(r, "checklist", 3, StageStatus::kBlocked, now);
                    blocked.needs = {"test", "security"};
                    PS_TRY(tx.InsertStage(blocked));
                    return Ok();
                  })
                  .ok());
  auto claimable =
      ReadValue<std::vector<StageRow>>(*store_, [&](Tx& tx) { return tx.FindClaimable(now, 10); });
  ASSERT_EQ(claimable->size(), 2u);
  EXPECT_EQ((*claimable)[0].name, "test");
  EXPECT_EQ((*claimable)[1].name, "security");
  EXPECT_EQ(*ReadValue<Millis>(*store_, [&](Tx& tx) { return tx.NextWakeup(); }), now);
  EXPECT_EQ(ReadValue<std::vector<StageRow>>(
                *store_, [&](Tx& tx) { return tx.FindClaimable(now + 500, 10); })
                ->size(),
            3u);
  // A stage duplicated in a run is refused.
  EXPECT_TRUE(store_
                  ->Write([&](Tx& tx) {
                    return tx.InsertStage(MakeStage(r, "test", 9, StageStatus::kReady, now));
                  })
                  .problem()
                  .Is("conflict"));

  StageRow s = (*claimable)[0];
  s.status = StageStatus::kRunning;
  s.attempt = 1;
  s.lease_owner = "w1";
  s.lease_token = 1;
  s.lease_expires = now + 100;
  ASSERT_TRUE(store_->Write([&](Tx& tx) { return tx.UpdateStage(s); }).ok());
  EXPECT_TRUE(ReadValue<std::vector<StageRow>>(*store_, [&](Tx& tx) {
                return tx.FindExpiredLeases(now + 100, 10);
              })->empty());
  auto expired = ReadValue<std::vector<StageRow>>(
      *store_, [&](Tx& tx) { return tx.FindExpiredLeases(now + 101, 10); });
  ASSERT_EQ(expired->size(), 1u);
  EXPECT_EQ(expired->front().lease_owner, "w1");
  auto stages = ReadValue<std::vector<StageRow>>(
      *store_, [&](Tx& tx) { return tx.ListStages(a.tenant, r.id); });
  ASSERT_EQ(stages->size(), 4u);
  EXPECT_EQ((*stages)[3].needs, (std::vector<std::string>{"test", "security"}));
  auto b = MakeTenant("b");
  EXPECT_TRUE(ReadValue<std::vector<StageRow>>(*store_, [&](Tx& tx) {
                return tx.ListStages(b.tenant, r.id);
              })->empty());
}

TEST_P(StoreConformance, AttemptKeysAreUnique) {
  auto a = MakeTenant("a");
  store::Run r = MakeRun(Id(), a.tenant, a.project_id, clock_.Now());
  AttemptRow at;
  at.key = a.project_id + ":" + r.id + ":audit:1";
  at.tenant = a.tenant;
  at.project_id = a.project_id;
  at.run_id = r.id;
  at.stage = "audit";
  at.attempt = 1;
  at.worker = "w";
  at.started_at = clock_.Now();
  ASSERT_TRUE(store_
                  ->Write([&](Tx& tx) -> Status {
                    PS_TRY(tx.CreateRun(r));
                    return tx.InsertAttempt(at);
                  })
                  .ok());
  auto again = store_->Write([&](Tx& tx) { return tx.InsertAttempt(at); });
  ASSERT_FALSE(again.ok());
  EXPECT_TRUE(again.problem().Is("conflict"));
  at.status = AttemptStatus::kDone;
  at.output = {{"ok", true}};
  at.finished_at = at.started_at + 5;
  ASSERT_TRUE(store_->Write([&](Tx& tx) { return tx.UpdateAttempt(at); }).ok());
  auto got =
      ReadValue<AttemptRow>(*store_, [&](Tx& tx) { return tx.GetAttempt(a.tenant, at.key); });
  EXPECT_EQ(got->status, AttemptStatus::kDone);
  EXPECT_EQ(got->output["ok"], true);
  EXPECT_EQ(ReadValue<std::vector<AttemptRow>>(
                *store_, [&](Tx& tx) { return tx.ListAttempts(a.tenant, r.id); })
                ->size(),
            1u);
}

TEST_P(StoreConformance, EventsAreOrderedScopedAndResumable) {
  auto a = MakeTenant("a");
  auto b = MakeTenant("b");
  std::vector<std::int64_t> seqs;
  for (int i = 0; i < 6; ++i) {
    const auto& t = i % 2 ? b : a;
    Event e;
    e.tenant = t.tenant;
    e.project_id = t.project_id;
    e.run_id = i < 4 ? "r1" : "r2";
    e.name = "release.progress";
    e.payload = {{"i", i}};
    e.created_at = clock_.Now();
    auto seq = WriteValue<std::int64_t>(*store_, [&](Tx& tx) { return tx.AppendEvent(e); });
    ASSERT_TRUE(seq.ok());
    seqs.push_back(*seq);
  }
  for (std::size_t i = 1; i < seqs.size(); ++i) EXPECT_GT(seqs[i], seqs[i - 1]);
  auto a_events = ReadValue<std::vector<Event>>(
      *store_, [&](Tx& tx) { return tx.ListEvents(a.tenant, 0, 100); });
  ASSERT_EQ(a_events->size(), 3u);
  EXPECT_EQ((*a_events)[1].payload["i"], 2);
  // Resume after the last seen sequence number.
  auto rest = ReadValue<std::vector<Event>>(
      *store_, [&](Tx& tx) { return tx.ListEvents(a.tenant, (*a_events)[0].seq, 100); });
  ASSERT_EQ(rest->size(), 2u);
  EXPECT_EQ((*rest)[0].seq, (*a_events)[1].seq);
  EXPECT_EQ(ReadValue<std::vector<Event>>(
                *store_, [&](Tx& tx) { return tx.ListEvents(a.tenant, 0, 100, "r2"); })
                ->size(),
            1u);
  EXPECT_EQ(ReadValue<std::vector<Event>>(*store_, [&](Tx& tx) { return tx.ListAllEvents(0, 100); })
                ->size(),
            6u);
  // Unknown event names are refused.
  Event bad;
  bad.tenant = a.tenant;
  bad.name = "made.up";
  EXPECT_FALSE(WriteValue<std::int64_t>(*store_, [&](Tx& tx) { return tx.AppendEvent(bad); }).ok());
}

TEST_P(StoreConformance, AFailedTransactionChangesNothing) {
  auto a = MakeTenant("a");
  store::Run r = MakeRun(Id(), a.tenant, a.project_id, clock_.Now());
  auto st = store_->Write([&](Tx& tx) -> Status {
    PS_TRY(tx.CreateRun(r));
    Event e;
    e.tenant = a.tenant;
    e.name = "plan.ready";
    PS_TRY(tx.AppendEvent(e));
    return problems::Conflict("changed my mind");
  });
  EXPECT_TRUE(st.problem().Is("conflict"));
  EXPECT_TRUE(ReadValue<store::Run>(*store_, [&](Tx& tx) { return tx.GetRun(a.tenant, r.id); })
                  .problem()
                  .Is("not-found"));
  EXPECT_TRUE(ReadValue<std::vector<Event>>(*store_, [&](Tx& tx) {
                return tx.ListEvents(a.tenant, 0, 10);
              })->empty());
}

TEST_P(StoreConformance, ArtifactsBlueprintsReleasesAlerts) {
  auto a = MakeTenant("a");
  auto b = MakeTenant("b");
  Artifact art;
  art.id = Id();
  art.tenant = a.tenant;
  art.project_id = a.project_id;
  art.type = ArtifactType::kSbom;
  art.name = "sbom.cdx.json";
  art.path = "sha256/ab/abcd";
  art.sha256 = std::string(64, 'a');
  art.size = 10;
  art.media_type = "application/vnd.cyclonedx+json";
  art.meta = {{"components", 3}};
  art.created_at = clock_.Now();
  ASSERT_TRUE(store_->Write([&](Tx& tx) { return tx.InsertArtifact(art); }).ok());
  auto got = ReadValue<Artifact>(*store_, [&](Tx& tx) { return tx.GetArtifact(a.tenant, art.id); });
  EXPECT_EQ(got->type, ArtifactType::kSbom);
  EXPECT_EQ(got->meta["components"], 3);
  EXPECT_EQ(got->run_id, "");
  EXPECT_FALSE(
      ReadValue<Artifact>(*store_, [&](Tx& tx) { return tx.GetArtifact(b.tenant, art.id); }).ok());
  EXPECT_EQ(ReadValue<std::vector<Artifact>>(
                *store_, [&](Tx& tx) { return tx.ListArtifacts(a.tenant, a.project_id); })
                ->size(),
            1u);

  Blueprint bp;
  bp.project_id = a.project_id;
  bp.tenant = a.tenant;
  bp.iac_ref = "artifact:1";
  bp.cost_estimate = {{"totalMonthlyCost", "12.40"}};
  bp.updated_at = 1;
  ASSERT_TRUE(store_->Write([&](Tx& tx) { return tx.PutBlueprint(bp); }).ok());
  bp.iac_ref = "artifact:2";
  bp.updated_at = 2;
  ASSERT_TRUE(store_->Write([&](Tx& tx) { return tx.PutBlueprint(bp); }).ok());
  auto gbp = ReadValue<Blueprint>(*store_,
                                  [&](Tx& tx) { return tx.GetBlueprint(a.tenant, a.project_id); });
  EXPECT_EQ(gbp->iac_ref, "artifact:2");
  EXPECT_EQ(gbp->cost_estimate["totalMonthlyCost"], "12.40");
  EXPECT_FALSE(ReadValue<Blueprint>(*store_, [&](Tx& tx) {
                 return tx.GetBlueprint(b.tenant, a.project_id);
               }).ok());

  Release rel;
  rel.id = Id();
  rel.tenant = a.tenant;
  rel.project_id = a.project_id;
  rel.sha = "abc";
  rel.env = "staging";
  rel.strategy = "canary";
  rel.status = "progressing";
  rel.created_at = rel.updated_at = clock_.Now();
  ASSERT_TRUE(store_->Write([&](Tx& tx) { return tx.CreateRelease(rel); }).ok());
  rel.status = "rolledback";
  rel.risk_score = 0.25;
  ASSERT_TRUE(store_->Write([&](Tx& tx) { return tx.UpdateRelease(rel); }).ok());
  auto grel = ReadValue<Release>(*store_, [&](Tx& tx) { return tx.GetRelease(a.tenant, rel.id); });
  EXPECT_EQ(grel->status, "rolledback");
  EXPECT_DOUBLE_EQ(*grel->risk_score, 0.25);
  Release stolen = rel;
  stolen.tenant = b.tenant;
  EXPECT_FALSE(store_->Write([&](Tx& tx) { return tx.UpdateRelease(stolen); }).ok());
  EXPECT_EQ(ReadValue<std::vector<Release>>(
                *store_, [&](Tx& tx) { return tx.ListReleases(a.tenant, a.project_id); })
                ->size(),
            1u);

  Alert al;
  al.id = Id();
  al.tenant = a.tenant;
  al.project_id = a.project_id;
  al.type = "canary.rollback";
  al.severity = "critical";
  al.action = "rolledback";
  al.created_at = clock_.Now();
  ASSERT_TRUE(store_->Write([&](Tx& tx) { return tx.CreateAlert(al); }).ok());
  EXPECT_EQ(ReadValue<std::vector<Alert>>(
                *store_, [&](Tx& tx) { return tx.ListAlerts(a.tenant, a.project_id); })
                ->size(),
            1u);
  EXPECT_TRUE(ReadValue<std::vector<Alert>>(*store_, [&](Tx& tx) {
                return tx.ListAlerts(b.tenant, a.project_id);
              })->empty());
}

TEST_P(StoreConformance, AuditLogAndDeadLetters) {
  auto a = MakeTenant("a");
  auto b = MakeTenant("b");
  AuditEntry e;
  e.tenant = a.tenant;
  e.user_id = "cli:dev";
  e.action = "gate.waive";
  e.target = "gate:perf";
  e.meta = {{"reason", "known"}};
  e.created_at = clock_.Now();
  auto id1 = WriteValue<std::int64_t>(*store_, [&](Tx& tx) { return tx.AppendAudit(e); });
  auto id2 = WriteValue<std::int64_t>(*store_, [&](Tx& tx) { return tx.AppendAudit(e); });
  ASSERT_TRUE(id1.ok() && id2.ok());
  EXPECT_GT(*id2, *id1);
  auto log = ReadValue<std::vector<AuditEntry>>(*store_,
                                                [&](Tx& tx) { return tx.ListAudit(a.tenant, 10); });
  ASSERT_EQ(log->size(), 2u);
  EXPECT_EQ(log->front().id, *id2);
  EXPECT_TRUE(ReadValue<std::vector<AuditEntry>>(*store_, [&](Tx& tx) {
                return tx.ListAudit(b.tenant, 10);
              })->empty());

  store::Run r = MakeRun(Id(), a.tenant, a.project_id, clock_.Now());
  ASSERT_TRUE(store_->Write([&](Tx& tx) { return tx.CreateRun(r); }).ok());
  DeadLetter d;
  d.tenant = a.tenant;
  d.run_id = r.id;
  d.stage = "security";
  d.attempt = 3;
  d.problem = problems::Timeout("t").ToJson();
  d.created_at = clock_.Now();
  auto did = WriteValue<std::int64_t>(*store_, [&](Tx& tx) { return tx.AddDeadLetter(d); });
  ASSERT_TRUE(did.ok());
  EXPECT_EQ(ReadValue<std::vector<DeadLetter>>(
                *store_, [&](Tx& tx) { return tx.ListDeadLetters(a.tenant, r.id, false); })
                ->size(),
            1u);
  EXPECT_TRUE(store_->Write([&](Tx& tx) { return tx.MarkReplayed(b.tenant, *did, 9); })
                  .problem()
                  .Is("not-found"));
  ASSERT_TRUE(store_->Write([&](Tx& tx) { return tx.MarkReplayed(a.tenant, *did, 9); }).ok());
  EXPECT_TRUE(ReadValue<std::vector<DeadLetter>>(*store_, [&](Tx& tx) {
                return tx.ListDeadLetters(a.tenant, r.id, false);
              })->empty());
  auto all = ReadValue<std::vector<DeadLetter>>(
      *store_, [&](Tx& tx) { return tx.ListDeadLetters(a.tenant, r.id, true); });
  ASSERT_EQ(all->size(), 1u);
  EXPECT_EQ(all->front().replayed_at, 9);
  EXPECT_EQ(all->front().problem["title"], "Timed out");
}

TEST_P(StoreConformance, AuditLogIsChainedPerOrgAndQueried) {
  auto a = MakeTenant("a");
  auto b = MakeTenant("b");
  auto append = [&](const Tenant& t, const std::string& user, const std::string& action) {
    AuditEntry e;
    e.tenant = t;
    e.user_id = user;
    e.action = action;
    e.meta = {{"n", 0.1}, {"s", "x"}};
    e.created_at = clock_.Now();
    return WriteValue<std::int64_t>(*store_, [&](Tx& tx) { return tx.AppendAudit(e); });
  };
  ASSERT_TRUE(append(a.tenant, "u1", "release.create").ok());
  ASSERT_TRUE(append(b.tenant, "u2", "release.create").ok());
  ASSERT_TRUE(append({a.tenant.org_id, ""}, "u1", "member.put").ok());
  ASSERT_TRUE(append(a.tenant, "u2", "run.cancel").ok());
  ASSERT_TRUE(append({"", ""}, "", "auth.denied").ok());
  // An org that does not exist takes no entries.
  EXPECT_FALSE(append({"no-such-org", ""}, "u", "x").ok());

  AuditQuery q;
  q.org_id = a.tenant.org_id;
  auto chain =
      ReadValue<std::vector<AuditEntry>>(*store_, [&](Tx& tx) { return tx.QueryAudit(q); });
  ASSERT_EQ(chain->size(), 3u);
  std::string prev;
  for (const auto& e : *chain) {
    EXPECT_EQ(e.prev_hash, prev);
    EXPECT_EQ(e.hash, AuditHash(e));
    prev = e.hash;
  }
  q.user_id = "u2";
  EXPECT_EQ(
      ReadValue<std::vector<AuditEntry>>(*store_, [&](Tx& tx) { return tx.QueryAudit(q); })->size(),
      1u);
  q.user_id.clear();
  q.action_prefix = "release.";
  EXPECT_EQ(
      ReadValue<std::vector<AuditEntry>>(*store_, [&](Tx& tx) { return tx.QueryAudit(q); })->size(),
      1u);
  q.action_prefix.clear();
  q.after_id = chain->at(0).id;
  q.limit = 1;
  auto page = ReadValue<std::vector<AuditEntry>>(*store_, [&](Tx& tx) { return tx.QueryAudit(q); });
  ASSERT_EQ(page->size(), 1u);
  EXPECT_EQ(page->front().id, chain->at(1).id);
  auto chains =
      ReadValue<std::vector<std::string>>(*store_, [&](Tx& tx) { return tx.AuditChains(); });
  EXPECT_EQ(chains->size(), 3u);  // a, b and the server's own
}

TEST_P(StoreConformance, MembersTokensAndIdempotency) {
  auto a = MakeTenant("a");
  auto b = MakeTenant("b");
  Member m{a.tenant.org_id, "alice", "viewer", {a.tenant.workspace_id}, "root", clock_.Now()};
  ASSERT_TRUE(store_->Write([&](Tx& tx) { return tx.PutMember(m); }).ok());
  m.role = "admin";
  ASSERT_TRUE(store_->Write([&](Tx& tx) { return tx.PutMember(m); }).ok());
  Member mb{b.tenant.org_id, "alice", "owner", {}, "root", clock_.Now()};
  ASSERT_TRUE(store_->Write([&](Tx& tx) { return tx.PutMember(mb); }).ok());
  auto got =
      ReadValue<Member>(*store_, [&](Tx& tx) { return tx.GetMember(a.tenant.org_id, "alice"); });
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(got->role, "admin");
  EXPECT_EQ(got->workspaces, std::vector<std::string>{a.tenant.workspace_id});
  EXPECT_EQ(
      ReadValue<std::vector<Member>>(*store_, [&](Tx& tx) { return tx.ListMemberships("alice"); })
          ->size(),
      2u);
  // A role outside the four is refused.
  Member bad = m;
  bad.role = "root";
  EXPECT_FALSE(store_->Write([&](Tx& tx) { return tx.PutMember(bad); }).ok());
  ASSERT_TRUE(
      store_->Write([&](Tx& tx) { return tx.DeleteMember(a.tenant.org_id, "alice"); }).ok());
  EXPECT_TRUE(store_->Write([&](Tx& tx) { return tx.DeleteMember(a.tenant.org_id, "alice"); })
                  .problem()
                  .Is("not-found"));

  ApiToken t{Id(), a.tenant.org_id, "ci", "developer", "", "h1", "alice", clock_.Now(), 0, 0, 0};
  ASSERT_TRUE(store_->Write([&](Tx& tx) { return tx.CreateApiToken(t); }).ok());
  ApiToken dup = t;
  dup.id = Id();
  EXPECT_TRUE(
      store_->Write([&](Tx& tx) { return tx.CreateApiToken(dup); }).problem().Is("conflict"));
  auto found = ReadValue<ApiToken>(*store_, [&](Tx& tx) { return tx.FindApiTokenByHash("h1"); });
  ASSERT_TRUE(found.ok());
  EXPECT_EQ(found->id, t.id);
  EXPECT_FALSE(ReadValue<ApiToken>(*store_, [&](Tx& tx) {
                 return tx.GetApiToken(b.tenant.org_id, t.id);
               }).ok());
  t.revoked_at = 77;
  t.last_used_at = 66;
  ASSERT_TRUE(store_->Write([&](Tx& tx) { return tx.UpdateApiToken(t); }).ok());
  auto listed = ReadValue<std::vector<ApiToken>>(
      *store_, [&](Tx& tx) { return tx.ListApiTokens(a.tenant.org_id); });
  ASSERT_EQ(listed->size(), 1u);
  EXPECT_EQ(listed->front().revoked_at, 77);
  EXPECT_EQ(listed->front().last_used_at, 66);

  IdempotencyRecord r{a.tenant.org_id, "alice", "k1", "rh", 202, {{"body", "{}"}}, clock_.Now()};
  ASSERT_TRUE(store_->Write([&](Tx& tx) { return tx.PutIdempotency(r); }).ok());
  EXPECT_TRUE(store_->Write([&](Tx& tx) { return tx.PutIdempotency(r); }).problem().Is("conflict"));
  auto rec = ReadValue<IdempotencyRecord>(
      *store_, [&](Tx& tx) { return tx.GetIdempotency(a.tenant.org_id, "alice", "k1"); });
  ASSERT_TRUE(rec.ok());
  EXPECT_EQ(rec->status, 202);
  EXPECT_FALSE(ReadValue<IdempotencyRecord>(*store_, [&](Tx& tx) {
                 return tx.GetIdempotency(b.tenant.org_id, "alice", "k1");
               }).ok());
  auto wss = ReadValue<std::vector<Workspace>>(
      *store_, [&](Tx& tx) { return tx.ListWorkspaces(a.tenant.org_id); });
  ASSERT_EQ(wss->size(), 1u);
  EXPECT_EQ(wss->front().id, a.tenant.workspace_id);
}

TEST_P(StoreConformance, RunPagesByCursorAndCounts) {
  auto a = MakeTenant("a");
  std::vector<std::string> ids;
  for (int i = 0; i < 5; ++i) {
    store::Run r = MakeRun(Id(), a.tenant, a.project_id, clock_.Now() + (i < 3 ? 0 : i));
    if (i == 4) r.status = RunStatus::kDone;
    ASSERT_TRUE(store_->Write([&](Tx& tx) { return tx.CreateRun(r); }).ok());
    ids.push_back(r.id);
  }
  // Pages of two, newest first, with no run twice or missing, even where
  // several runs share a creation time.
  std::vector<std::string> seen;
  RunFilter f{"", 2, "", 0};
  for (int page = 0; page < 4; ++page) {
    auto runs = ReadValue<std::vector<store::Run>>(
        *store_, [&](Tx& tx) { return tx.ListRuns(a.tenant, f); });
    ASSERT_TRUE(runs.ok());
    for (const auto& r : *runs) seen.push_back(r.id);
    if (runs->size() < 2) break;
    f.before_id = runs->back().id;
    f.before_created_at = runs->back().created_at;
  }
  ASSERT_EQ(seen.size(), 5u);
  EXPECT_EQ(std::set<std::string>(seen.begin(), seen.end()).size(), 5u);
  EXPECT_EQ(seen.front(), ids.back());
  auto counts = ReadValue<std::map<std::string, std::int64_t>>(
      *store_, [](Tx& tx) { return tx.CountRunsByStatus(); });
  ASSERT_TRUE(counts.ok());
  EXPECT_EQ((*counts)["pending"], 4);
  EXPECT_EQ((*counts)["done"], 1);
  store::Run r = MakeRun(Id(), a.tenant, a.project_id, clock_.Now());
  ASSERT_TRUE(
      store_
          ->Write([&](Tx& tx) -> Status {
            PS_TRY(tx.CreateRun(r));
            PS_TRY(tx.InsertStage(MakeStage(r, "a", 0, StageStatus::kReady, 0)));
            PS_TRY(tx.InsertStage(MakeStage(r, "b", 1, StageStatus::kReady, clock_.Now() + 9)));
            return tx.InsertStage(MakeStage(r, "c", 2, StageStatus::kBlocked, 0));
          })
          .ok());
  auto ready =
      ReadValue<std::int64_t>(*store_, [&](Tx& tx) { return tx.CountReadyStages(clock_.Now()); });
  EXPECT_EQ(*ready, 1);
}

TEST_P(StoreConformance, DeleteProjectTakesItsRowsInItsTenantOnly) {
  auto a = MakeTenant("a");
  auto b = MakeTenant("b");
  store::Run r = MakeRun(Id(), a.tenant, a.project_id, clock_.Now());
  Event e;
  e.tenant = a.tenant;
  e.project_id = a.project_id;
  e.run_id = r.id;
  e.name = "run.created";
  e.created_at = clock_.Now();
  ASSERT_TRUE(store_
                  ->Write([&](Tx& tx) -> Status {
                    PS_TRY(tx.CreateRun(r));
                    PS_TRY(tx.InsertStage(MakeStage(r, "s", 0, StageStatus::kDone, 0)));
                    PS_TRY(tx.AppendEvent(e));
                    return Ok();
                  })
                  .ok());
  EXPECT_TRUE(store_->Write([&](Tx& tx) { return tx.DeleteProject(b.tenant, a.project_id); })
                  .problem()
                  .Is("not-found"));
  ASSERT_TRUE(store_->Write([&](Tx& tx) { return tx.DeleteProject(a.tenant, a.project_id); }).ok());
  EXPECT_FALSE(ReadValue<Project>(*store_, [&](Tx& tx) {
                 return tx.GetProject(a.tenant, a.project_id);
               }).ok());
  EXPECT_FALSE(
      ReadValue<store::Run>(*store_, [&](Tx& tx) { return tx.GetRun(a.tenant, r.id); }).ok());
  EXPECT_TRUE(ReadValue<std::vector<Event>>(*store_, [&](Tx& tx) {
                return tx.ListEvents(a.tenant, 0, 10);
              })->empty());
  EXPECT_TRUE(ReadValue<Project>(*store_, [&](Tx& tx) {
                return tx.GetProject(b.tenant, b.project_id);
              }).ok());
}

TEST_P(StoreConformance, SchemaVersionIsCurrent) { EXPECT_GE(store_->SchemaVersion(), 1); }

}  // namespace ps::store
