// JSON views of the data model, shared by the CLI's --json output and the
// API. Times are ISO 8601 UTC strings.
#pragma once

#include "store/model.h"

namespace ps::store {

Json ToJson(const Project& p);
Json ToJson(const Run& r);
Json ToJson(const StageRow& s);
Json ToJson(const AttemptRow& a);
Json ToJson(const Artifact& a);
Json ToJson(const Event& e);
Json ToJson(const DeadLetter& d);

}  // namespace ps::store
