// The local target names environments' folders from tenant, project and
// environment; names that could climb out of the state folder are refused.
#include "targets/local/local_target.h"

#include <gtest/gtest.h>

#include "testing/testing.h"

namespace ps::targets::local {
namespace {

TEST(LocalTarget, FoldersFollowTenantProjectAndEnvironment) {
  const LocalTargetOptions o{"/state/local", "/bin/true", "org1", "ws1"};
  EXPECT_EQ(EnvironmentDir(o, {"org1", "ws1", "My Shop", "staging"}),
            "/state/local/my-shop/staging");
  // Another tenant's environments live apart, even with the same names.
  EXPECT_EQ(EnvironmentDir(o, {"org2", "ws1", "My Shop", "staging"}),
            "/state/local/tenants/org2/ws1/my-shop/staging");
  EXPECT_EQ(EnvironmentDir(o, {"org1", "ws2", "My Shop", "staging"}),
            "/state/local/tenants/org1/ws2/my-shop/staging");
  // A project name cannot climb out: it is a slug.
  EXPECT_EQ(EnvironmentDir(o, {"org1", "ws1", "../../etc", "staging"}), "/state/local/etc/staging");
}

TEST(LocalTarget, EnvironmentNamesThatCouldClimbOutAreRefused) {
  ps::testing::TempDir dir;
  auto target = MakeLocalTarget({dir.path() / "local", "/bin/true", "o", "w"});
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
