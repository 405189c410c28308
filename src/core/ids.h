// Identifiers: UUIDs (version 7, time-ordered, so ids sort by creation) in
// their canonical lower-case text form.
#pragma once

#include <string>

#include "core/clock.h"

namespace ps {

std::string NewId(Clock& clock, Random& random);
bool IsUuid(std::string_view s);

}  // namespace ps
