// The local target names environments' folders from tenant, project and
// environment; names that could climb out of the state folder are refused.
#include "targets/local/local_target.h"

#include <gtest/gtest.h>

#include "core/fs.h"
#include "testing/testing.h"

namespace ps::targets::local {
namespace {

TEST(LocalTarget, FoldersFollowTenantProjectAndEnvironment) {
  const std::filesystem::path root = "/state/local";
  EXPECT_EQ(EnvironmentDir(root, "org1", "ws1", {"org1", "ws1", "My Shop", "staging"}),
            "/state/local/my-shop/staging");
  // Another tenant's environments live apart, even with the same names.
  EXPECT_EQ(EnvironmentDir(root, "org1", "ws1", {"org2", "ws1", "My Shop", "staging"}),
            "/state/local/tenants/org2/ws1/my-shop/staging");
  EXPECT_EQ(EnvironmentDir(root, "org1", "ws1", {"org1", "ws2", "My Shop", "staging"}),
            "/state/local/tenants/org1/ws2/my-shop/staging");
  // No home yet: the asking tenant's is the home.
  EXPECT_EQ(EnvironmentDir(root, "", "", {"org2", "ws1", "shop", "staging"}),
            "/state/local/shop/staging");
  // A project name cannot climb out: it is a slug.
  EXPECT_EQ(EnvironmentDir(root, "org1", "ws1", {"org1", "ws1", "../../etc", "staging"}),
            "/state/local/etc/staging");
}

TEST(LocalTarget, TheFirstTenantToCreateAnEnvironmentIsHome) {
  ps::testing::TempDir dir;
  auto target = MakeLocalTarget({dir.path() / "local", "/bin/true"});
  ASSERT_TRUE(target->Open({"o1", "w1", "shop", "staging"}).ok());
  ASSERT_TRUE(target->Open({"o2", "w2", "shop", "staging"}).ok());
  EXPECT_TRUE(std::filesystem::is_directory(dir.path() / "local" / "shop" / "staging"));
  EXPECT_TRUE(std::filesystem::is_directory(dir.path() / "local" / "tenants" / "o2" / "w2" /
                                            "shop" / "staging"));
  // Reached without the tenant (a damaged state database): the home's.
  auto any = MakeLocalTarget({dir.path() / "local", "/bin/true", true});
  auto env = any->Open({"", "", "shop", "staging"});
  ASSERT_TRUE(env.ok());
  EXPECT_EQ((*env)->DataDir(), dir.path() / "local" / "shop" / "staging");
}

TEST(LocalTarget, EnvironmentNamesThatCouldClimbOutAreRefused) {
  ps::testing::TempDir dir;
  auto target = MakeLocalTarget({dir.path() / "local", "/bin/true"});
  for (const std::string& env :
       std::vector<std::string>{"../x", "a/b", "", "UPPER", std::string(33, 'a')}) {
    auto e = target->Open({"o", "w", "shop", env});
    EXPECT_FALSE(e.ok()) << env;
    EXPECT_FALSE(target->Exists({"o", "w", "shop", env}));
  }
  EXPECT_FALSE(std::filesystem::exists(dir.path() / "x"));
  EXPECT_TRUE(target->Environments({"o", "w", "shop", ""}).empty());
}

}  // namespace
}  // namespace ps::targets::local
