// toml++'s implementation, compiled once here (TOML_HEADER_ONLY=0 everywhere)
// instead of linking Debian's shared library: see PS_STATIC_DEPS in CMakeLists.txt.
#define TOML_IMPLEMENTATION
#include <toml++/toml.h>
