// Identifiers: UUIDs (version 7, time-ordered, so ids sort by creation) in
// their canonical lower-case text form.
#pragma once

#include <string>

#include "core/clock.h"

namespace ps {

std::string NewId(Clock& clock, Random& random);
bool IsUuid(std::string_view s);

// A folder or project name as a name usable for images, resources and
// folders: lower case, [a-z0-9-], at most 63 characters; "app" if nothing
// is left.
std::string Slug(const std::string& name);

// An environment's name (staging, production, ...): 1-32 lower-case letters,
// digits and '-', so that it can name a folder without climbing out of one.
bool IsEnvironmentName(std::string_view name);

}  // namespace ps
