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
Json ToJson(const Org& o);
Json ToJson(const Workspace& w);
Json ToJson(const Member& m);
Json ToJson(const ApiToken& t);  // without the secret's hash
Json ToJson(const AuditEntry& e);
Json ToJson(const Release& r);
Json ToJson(const Blueprint& b);
Json ToJson(const Alert& a);

}  // namespace ps::store
