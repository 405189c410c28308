// The CLI's default tenant: an org and a workspace named "default", created on
// first use.
#pragma once

#include <string>

#include "core/clock.h"
#include "store/store.h"

namespace ps::store {

Result<Tenant> EnsureTenant(Store& store, const std::string& org_name,
                            const std::string& workspace_name, Clock& clock, Random& random);
// Finds an existing tenant by names; NotFound if either does not exist.
Result<Tenant> FindTenant(Store& store, const std::string& org_name,
                          const std::string& workspace_name);

}  // namespace ps::store
