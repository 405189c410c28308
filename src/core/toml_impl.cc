// toml++'s implementation, compiled once here (TOML_HEADER_ONLY=0 everywhere)
// instead of linking Debian's shared library: see PS_STATIC_DEPS in CMakeLists.txt.
#define TOML_IMPLEMENTATION
// toml++ asserts on conditions of its input (an invalid key start, in
// parse_key): with assert() on (debug, ASan) a manifest holding `[?x]`
// aborts. Input errors must be parse errors, so its asserts are off in
// every build, as they are under NDEBUG.
#ifndef TOML_ASSERT
#define TOML_ASSERT(expr) static_assert(true)
#endif
#include <toml++/toml.h>
