// The Store conformance suite: every Store implementation instantiates it
// (INSTANTIATE_TEST_SUITE_P(Name, StoreConformance, Values(factory))).
#pragma once

#include <gtest/gtest.h>

#include <functional>
#include <memory>

#include "core/clock.h"
#include "store/store.h"
#include "testing/testing.h"

namespace ps::store {

// Makes a fresh, empty store in `dir`.
using StoreFactory = std::function<std::unique_ptr<Store>(const std::filesystem::path& dir)>;

struct NamedFactory {
  std::string name;
  StoreFactory make;
};

class StoreConformance : public ::testing::TestWithParam<NamedFactory> {
 protected:
  void SetUp() override;
  // Creates an org with a workspace and a project in it.
  struct TenantFixture {
    Tenant tenant;
    std::string project_id;
  };
  TenantFixture MakeTenant(const std::string& name);
  std::string Id();

  ps::testing::TempDir dir_;
  std::unique_ptr<Store> store_;
  SimClock clock_;
  SeededRandom random_{42};
};

}  // namespace ps::store
