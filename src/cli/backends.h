// The one list of the backends this binary carries (store backends today;
// targets next). Adding a backend is one folder plus one line in backends.cc.
#pragma once

namespace ps::cli {

// Registers every backend, once (later calls do nothing).
void RegisterBackends();

}  // namespace ps::cli
