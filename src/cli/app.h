// The prodsprint command line: parses arguments, opens the state, dispatches
// to the engine and prints human or --json output (docs/CLI.md).
#pragma once

namespace ps::cli {

int Main(int argc, char** argv);

}  // namespace ps::cli
