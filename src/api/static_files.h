// The dashboard's files (a single-page app built to static files): served
// from one folder for every GET that is not the API's, with index.html for
// the app's own paths. Nothing outside the folder is ever read: no '..', no
// symbolic link out of it.
#pragma once

#include <filesystem>
#include <optional>
#include <string>

#include "api/http.h"

namespace ps::api {

// The answer for `req` from `root`, or nullopt when it is not a file's (the
// caller answers 404 as it would anyway). `path` is the request's decoded
// path.
std::optional<Response> ServeStatic(const std::filesystem::path& root, const Request& req);

// The media type of a file name, by its extension.
std::string MediaTypeOf(const std::string& name);

}  // namespace ps::api
