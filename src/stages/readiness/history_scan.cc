#include "stages/readiness/history_scan.h"

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <unordered_set>

#include "core/fs.h"
#include "sqlite/db.h"
#include "stages/git/libgit2.h"

namespace ps::stages::readiness {

namespace fs = std::filesystem;
using ps::sqlite::Db;
using ps::sqlite::SqliteError;

std::string DefaultHistoryCache(const std::string& git_dir) {
  std::string base = UserCacheDir();
  if (base.empty()) base = ".prodsprint";
  return base + "/history/" + Sha256Hex(git_dir).substr(0, 20) + ".db";
}

namespace {

// The rule set a cache was filled with: another set invalidates it.
std::string RulesKey(const security::SecretScanner& s) {
  std::string key = "history-v1";
  for (const auto& r : s.rules()) key += std::string("\n") + r.id + " " + r.pattern;
  return Sha256Hex(key);
}

std::string Hex(const git::Api& g, const git_oid* oid) {
  char buf[GIT_OID_HEXSZ + 1];
  g.oid_tostr(buf, sizeof buf, oid);
  return buf;
}

}  // namespace

Result<HistoryReport> ScanHistory(const HistoryOptions& o, security::SecretScanner& scanner) {
  const auto started = std::chrono::steady_clock::now();
  PS_ASSIGN(const git::Api* api, git::Load());
  const git::Api& g = *api;
  git_repository* repo = nullptr;
  if (g.repository_open_ext(&repo, o.path.c_str(), 0, nullptr) != 0) {
    return problems::InvalidInput(g.Error("'" + o.path + "' is not in a git repository"));
  }
  struct RepoGuard {
    const git::Api& g;
    git_repository* r;
    ~RepoGuard() { g.repository_free(r); }
  } repo_guard{g, repo};
  // The object database, to learn a blob's size before inflating it (a
  // hostile history may hold huge blobs).
  git_odb* odb = nullptr;
  if (g.repository_odb(&odb, repo) != 0) return problems::Internal(g.Error("object database"));
  struct OdbGuard {
    const git::Api& g;
    git_odb* o;
    ~OdbGuard() { g.odb_free(o); }
  } odb_guard{g, odb};
  std::error_code ec;
  const std::string git_dir = fs::weakly_canonical(g.repository_path(repo), ec).string();
  HistoryReport rep;
  rep.cache = o.cache_path.empty() ? DefaultHistoryCache(git_dir) : o.cache_path;
  PS_TRY(EnsureDir(fs::path(rep.cache).parent_path()));

  // Reachable commits, oldest first: the first commit holding a blob
  // introduced it.
  git_revwalk* walk = nullptr;
  if (g.revwalk_new(&walk, repo) != 0) return problems::Internal(g.Error("revwalk"));
  struct WalkGuard {
    const git::Api& g;
    git_revwalk* w;
    ~WalkGuard() { g.revwalk_free(w); }
  } walk_guard{g, walk};
  g.revwalk_sorting(walk, GIT_SORT_TOPOLOGICAL | GIT_SORT_REVERSE);
  // Each may fail harmlessly (no tags, an unborn HEAD).
  for (const char* glob : {"refs/heads", "refs/tags", "refs/remotes"})
    (void)g.revwalk_push_glob(walk, glob);
  (void)g.revwalk_push_head(walk);
  std::vector<git_oid> commits;
  git_oid oid;
  int walked = 0;
  while ((walked = g.revwalk_next(&oid, walk)) == 0) commits.push_back(oid);
  rep.commits = commits.size();
  // What could not be read is said, never passed over: the gate counts it.
  auto unreadable = [&](std::string where, std::string why) {
    ++rep.unreadable;
    if (rep.unreadable_list.size() < 100)
      rep.unreadable_list.emplace_back(std::move(where), std::move(why));
  };
  if (walked != GIT_ITEROVER) {
    unreadable("history", g.Error("the walk of the history stopped early (a corrupt commit?)"));
  }

  try {
    Db db(rep.cache, true);
    db.Exec("PRAGMA journal_mode=WAL");
    db.Exec(
        "CREATE TABLE IF NOT EXISTS meta(key TEXT PRIMARY KEY, value TEXT NOT NULL);"
        "CREATE TABLE IF NOT EXISTS commits(oid TEXT PRIMARY KEY);"
        "CREATE TABLE IF NOT EXISTS trees(oid TEXT PRIMARY KEY);"
        "CREATE TABLE IF NOT EXISTS blobs(oid TEXT PRIMARY KEY);"
        "CREATE TABLE IF NOT EXISTS findings(blob TEXT NOT NULL, commit_oid TEXT NOT NULL, "
        "path TEXT NOT NULL, finding TEXT NOT NULL);"
        "CREATE TABLE IF NOT EXISTS unreadable(commit_oid TEXT NOT NULL, path TEXT NOT NULL, "
        "why TEXT NOT NULL);");
    const std::string key = RulesKey(scanner);
    if (db.QueryText("SELECT COALESCE((SELECT value FROM meta WHERE key = 'rules'), '')") != key) {
      db.Exec(
          "DELETE FROM commits; DELETE FROM trees; DELETE FROM blobs; DELETE FROM findings; "
          "DELETE FROM unreadable;");
      db.Prepare("INSERT OR REPLACE INTO meta(key, value) VALUES('rules', ?)")->Bind(1, key).Exec();
    }
    std::unordered_set<std::string> known_commits, known_trees, known_blobs;
    for (const auto& [table, set] :
         {std::pair{"commits", &known_commits}, std::pair{"trees", &known_trees},
          std::pair{"blobs", &known_blobs}}) {
      auto q = db.Prepare(std::string("SELECT oid FROM ") + table);
      while (q->Step()) set->insert(q->Text(0));
    }
    db.Exec("BEGIN");
    auto add_commit = db.Prepare("INSERT OR IGNORE INTO commits(oid) VALUES(?)");
    auto add_tree = db.Prepare("INSERT OR IGNORE INTO trees(oid) VALUES(?)");
    auto add_blob = db.Prepare("INSERT OR IGNORE INTO blobs(oid) VALUES(?)");
    auto add_finding =
        db.Prepare("INSERT INTO findings(blob, commit_oid, path, finding) VALUES(?, ?, ?, ?)");
    // Kept like findings: a later scan that skips the object (seen) still
    // reports it.
    auto add_unreadable =
        db.Prepare("INSERT INTO unreadable(commit_oid, path, why) VALUES(?, ?, ?)");
    // A commit not fully read is scanned again next time: its old rows go.
    auto forget_unreadable = db.Prepare("DELETE FROM unreadable WHERE commit_oid = ?");
    auto cannot_read = [&](const std::string& commit_hex, const std::string& path,
                           const std::string& why) {
      add_unreadable->BindAll(commit_hex, path, g.Error(why)).Exec();
      add_unreadable->Reset();
    };
    for (const auto& c : commits) {
      if (o.stopping && o.stopping()) break;
      const std::string commit_hex = Hex(g, &c);
      if (known_commits.count(commit_hex)) continue;
      ++rep.new_commits;
      forget_unreadable->Bind(1, commit_hex).Exec();
      forget_unreadable->Reset();
      git_commit* commit = nullptr;
      if (g.commit_lookup(&commit, repo, &c) != 0) {
        cannot_read(commit_hex, "", "corrupt or missing commit " + commit_hex);
        continue;
      }
      git_tree* root = nullptr;
      const int rc = g.commit_tree(&root, commit);
      g.commit_free(commit);
      if (rc != 0) {
        cannot_read(commit_hex, "", "corrupt or missing tree of commit " + commit_hex);
        continue;
      }
      // Depth-first over trees not seen before (a seen tree's blobs were
      // all read with an earlier commit).
      std::vector<std::pair<git_tree*, std::string>> stack{{root, ""}};
      while (!stack.empty()) {
        auto [tree, prefix] = stack.back();
        stack.pop_back();
        const std::string tree_hex = Hex(g, g.tree_id(tree));
        if (!known_trees.insert(tree_hex).second) {
          g.tree_free(tree);
          continue;
        }
        add_tree->Bind(1, tree_hex).Exec();
        add_tree->Reset();
        const std::size_t n = g.tree_entrycount(tree);
        for (std::size_t i = 0; i < n; ++i) {
          const git_tree_entry* e = g.tree_entry_byindex(tree, i);
          const std::string path = prefix + g.tree_entry_name(e);
          const git_object_t type = g.tree_entry_type(e);
          if (type == GIT_OBJECT_TREE) {
            git_tree* sub = nullptr;
            if (g.tree_lookup(&sub, repo, g.tree_entry_id(e)) == 0) {
              stack.emplace_back(sub, path + "/");
            } else {
              cannot_read(commit_hex, path,
                          "corrupt or missing tree " + Hex(g, g.tree_entry_id(e)));
            }
            continue;
          }
          const auto mode = g.tree_entry_filemode(e);
          if (type != GIT_OBJECT_BLOB ||
              (mode != GIT_FILEMODE_BLOB && mode != GIT_FILEMODE_BLOB_EXECUTABLE))
            continue;
          const std::string blob_hex = Hex(g, g.tree_entry_id(e));
          if (!known_blobs.insert(blob_hex).second) continue;
          add_blob->Bind(1, blob_hex).Exec();
          add_blob->Reset();
          std::size_t header_size = 0;
          git_object_t header_type = GIT_OBJECT_INVALID;
          if (g.odb_read_header(&header_size, &header_type, odb, g.tree_entry_id(e)) == 0 &&
              header_size > o.max_blob_bytes) {
            ++rep.blobs_skipped;  // too large: never inflated
            continue;
          }
          git_blob* blob = nullptr;
          if (g.blob_lookup(&blob, repo, g.tree_entry_id(e)) != 0) {
            cannot_read(commit_hex, path, "corrupt or missing blob " + blob_hex);
            continue;
          }
          const auto size = static_cast<std::uint64_t>(g.blob_rawsize(blob));
          if (size > o.max_blob_bytes || g.blob_is_binary(blob)) {
            ++rep.blobs_skipped;
            g.blob_free(blob);
            continue;
          }
          const std::string_view content(static_cast<const char*>(g.blob_rawcontent(blob)),
                                         static_cast<std::size_t>(size));
          ++rep.blobs_scanned;
          rep.bytes_scanned += size;
          for (auto& f : scanner.Scan(path, content)) {
            f.commit = commit_hex;
            add_finding->BindAll(blob_hex, commit_hex, path, Dump(f.ToJson())).Exec();
            add_finding->Reset();
          }
          g.blob_free(blob);
        }
        g.tree_free(tree);
      }
      add_commit->Bind(1, commit_hex).Exec();
      add_commit->Reset();
    }
    db.Exec("COMMIT");
    // Findings of commits still reachable (a rewritten history's are not).
    std::unordered_set<std::string> reachable;
    for (const auto& c : commits) reachable.insert(Hex(g, &c));
    {
      auto u = db.Prepare("SELECT commit_oid, path, why FROM unreadable ORDER BY path, commit_oid");
      while (u->Step()) {
        if (!reachable.count(u->Text(0))) continue;
        unreadable((u->Text(1).empty() ? "commit " + u->Text(0).substr(0, 12)
                                       : u->Text(1) + " @ " + u->Text(0).substr(0, 12)),
                   u->Text(2));
      }
    }
    auto q = db.Prepare("SELECT commit_oid, finding FROM findings ORDER BY path, commit_oid");
    while (q->Step()) {
      if (!reachable.count(q->Text(0))) continue;
      const Json j = q->JsonCol(1);
      security::SecretFinding f;
      f.rule_id = j.value("rule", "");
      f.title = j.value("title", "");
      f.severity = j.value("severity", "");
      f.file = j.value("file", "");
      f.line = j.value("line", 0);
      f.column = j.value("column", 0);
      f.redacted = j.value("redacted", "");
      f.fingerprint = j.value("fingerprint", "");
      f.entropy = j.value("entropy", 0.0);
      f.confidence = j.value("confidence", "");
      f.remediation = j.value("remediation", "");
      f.commit = q->Text(0);
      rep.findings.push_back(std::move(f));
    }
  } catch (const SqliteError& e) {
    return problems::Internal(std::string("history cache ") + rep.cache + ": " + e.what());
  }
  if (o.stopping && o.stopping()) return problems::Cancelled("the history scan was interrupted");
  rep.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  return rep;
}

}  // namespace ps::stages::readiness
