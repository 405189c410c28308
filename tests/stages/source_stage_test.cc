#include "stages/source/source_stage.h"

#include <gtest/gtest.h>

#include <filesystem>

#include "testing/testing.h"

namespace ps::stages {
namespace {

namespace fs = std::filesystem;
using ps::testing::WriteText;

TEST(SourceStage, DescribesTheTreeWithoutFollowingLinks) {
  ps::testing::TempDir dir;
  WriteText(dir / "repo/a.txt", "hello");
  WriteText(dir / "repo/sub/b.txt", "world!");
  WriteText(dir / "repo/.git/HEAD", "ignored");
  WriteText(dir / "repo/node_modules/x.js", "ignored");
  WriteText(dir / "secret/key", "TOP SECRET");
  fs::create_symlink(dir / "secret", dir / "repo/escape");
  fs::create_symlink("a.txt", dir / "repo/alias");
  auto tree = DescribeTree((dir / "repo").string(), {}, nullptr);
  ASSERT_TRUE(tree.ok()) << tree.problem().Message();
  EXPECT_EQ((*tree)["files"], 2);
  EXPECT_EQ((*tree)["bytes"], 11);
  EXPECT_EQ((*tree)["symlinks"], 2);
  ASSERT_EQ((*tree)["symlinks_outside"].size(), 1u);
  EXPECT_EQ((*tree)["symlinks_outside"][0]["path"], "escape");
}

TEST(SourceStage, FingerprintFollowsContent) {
  ps::testing::TempDir dir;
  WriteText(dir / "repo/a.txt", "one");
  auto f1 = (*DescribeTree((dir / "repo").string(), {}, nullptr))["fingerprint"];
  auto f1b = (*DescribeTree((dir / "repo").string(), {}, nullptr))["fingerprint"];
  WriteText(dir / "repo/a.txt", "two");
  auto f2 = (*DescribeTree((dir / "repo").string(), {}, nullptr))["fingerprint"];
  EXPECT_EQ(f1, f1b);
  EXPECT_NE(f1, f2);
}

TEST(SourceStage, LimitsBoundHostileTrees) {
  ps::testing::TempDir dir;
  for (int i = 0; i < 20; ++i) WriteText(dir / ("repo/f" + std::to_string(i)), "x");
  WriteText(dir / "repo/big", std::string(4096, 'x'));
  TreeLimits limits;
  limits.max_files = 10;
  limits.max_file_bytes = 1024;
  auto tree = DescribeTree((dir / "repo").string(), limits, nullptr);
  ASSERT_TRUE(tree.ok());
  EXPECT_TRUE((*tree)["truncated"].get<bool>());
  limits.max_files = 100;
  tree = DescribeTree((dir / "repo").string(), limits, nullptr);
  EXPECT_EQ((*tree)["large_files_not_hashed"], 1);
}

TEST(SourceStage, NotAFolder) {
  EXPECT_TRUE(DescribeTree("/no/such/place", {}, nullptr).problem().Is("invalid-input"));
}

TEST(SourceStage, ReadsGitIdentity) {
  auto g = DescribeGit(PS_SOURCE_DIR);
  // The checkout this test runs from is a git repository.
  EXPECT_EQ(g["vcs"], "git");
  ps::testing::TempDir dir;
  EXPECT_EQ(DescribeGit(dir.path().string())["vcs"], "none");  // temp dirs are not in a repo
}

}  // namespace
}  // namespace ps::stages

namespace ps::stages {
namespace {

TEST(SourceStage, DirtyMeansTheProjectsFolderOnly) {
  ps::testing::TempDir dir;
  const auto repo = dir / "repo";
  ps::testing::WriteText(repo / "app/main.go", "package main\n");
  auto git = [&](std::vector<std::string> args) {
    args.insert(args.begin(), {"/usr/bin/git", "-c", "user.name=t", "-c", "user.email=t@t"});
    return ps::testing::RunCommand(args, repo).exit_code;
  };
  ASSERT_EQ(git({"init", "-q", "-b", "main"}), 0);
  ASSERT_EQ(git({"add", "."}), 0);
  ASSERT_EQ(git({"commit", "-q", "-m", "init"}), 0);
  auto g = DescribeGit((repo / "app").string());
  EXPECT_EQ(g["vcs"], "git");
  EXPECT_EQ(g["branch"], "main");
  EXPECT_EQ(g["path_in_repo"], "app");
  EXPECT_EQ(g["commit"].get<std::string>().size(), 40u);
  EXPECT_FALSE(g["dirty"].get<bool>());
  ps::testing::WriteText(repo / "elsewhere.txt", "x");
  EXPECT_FALSE(DescribeGit((repo / "app").string())["dirty"].get<bool>());
  EXPECT_TRUE(DescribeGit(repo.string())["dirty"].get<bool>());
  ps::testing::WriteText(repo / "app/new.go", "package main\n");
  EXPECT_TRUE(DescribeGit((repo / "app").string())["dirty"].get<bool>());
}

}  // namespace
}  // namespace ps::stages

namespace ps::stages {
namespace {

// With a revision, the source stage takes stock of that commit's tree, not
// of the working tree: its files, its commit as the fingerprint, and links
// that leave the tree.
TEST(SourceStage, DescribesARevisionNotTheWorkingTree) {
  ps::testing::TempDir dir;
  const auto repo = dir / "repo";
  auto git = [&](std::vector<std::string> args) {
    args.insert(args.begin(), {"/usr/bin/git", "-c", "user.name=t", "-c", "user.email=t@t"});
    return ps::testing::RunCommand(args, repo);
  };
  ps::testing::WriteText(repo / "app/main.go", "package main\n");
  ASSERT_EQ(git({"init", "-q", "-b", "main"}).exit_code, 0);
  fs::create_symlink("../../etc/passwd", repo / "app/passwd");
  fs::create_symlink("main.go", repo / "app/alias.go");
  ASSERT_EQ(git({"add", "."}).exit_code, 0);
  ASSERT_EQ(git({"commit", "-q", "-m", "one"}).exit_code, 0);
  ASSERT_EQ(git({"tag", "v1"}).exit_code, 0);
  const std::string v1 = git({"rev-parse", "HEAD"}).out.substr(0, 40);
  ps::testing::WriteText(repo / "app/extra.go", "package main\n\nfunc f() {}\n");
  ASSERT_EQ(git({"add", "."}).exit_code, 0);
  ASSERT_EQ(git({"commit", "-q", "-m", "two"}).exit_code, 0);
  ps::testing::WriteText(repo / "app/uncommitted.go", "package main\n");

  auto t = DescribeRevision((repo / "app").string(), "v1", {}, nullptr);
  ASSERT_TRUE(t.ok()) << t.problem().Message();
  EXPECT_EQ((*t)["files"], 1);  // main.go only: not extra.go, not the uncommitted file
  EXPECT_EQ((*t)["bytes"], 13);
  EXPECT_EQ((*t)["symlinks"], 2);
  ASSERT_EQ((*t)["symlinks_outside"].size(), 1u);
  EXPECT_EQ((*t)["symlinks_outside"][0]["path"], "passwd");
  EXPECT_EQ((*t)["fingerprint"], "git:" + v1);
  EXPECT_EQ((*t)["ref"], "v1");
  auto head = DescribeRevision((repo / "app").string(), "HEAD", {}, nullptr);
  ASSERT_TRUE(head.ok());
  EXPECT_EQ((*head)["files"], 2);
  EXPECT_NE((*head)["fingerprint"], (*t)["fingerprint"]);
  EXPECT_TRUE(DescribeRevision(repo.string(), "no-such-tag", {}, nullptr)
                  .problem()
                  .Is("invalid-input"));
}

}  // namespace
}  // namespace ps::stages
