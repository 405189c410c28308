// libgit2, loaded on first use. Linking it would load it, and the ~12
// libraries it pulls in (TLS, SSH, Kerberos...), into every prodsprint
// process: about 3 ms of start-up, more than a small audit takes. Only what
// reads git (the source stage, `audit --ref`, `version`) loads it, once.
#pragma once

#include <git2.h>

#include "core/problem.h"

namespace ps::stages::git {

// The libgit2 functions ProdSprint calls.
// clang-format off
#define PS_GIT_FUNCTIONS(X)                                                                 \
  X(libgit2_init) X(libgit2_version) X(error_last) X(repository_open_ext)                   \
  X(repository_free) X(repository_workdir) X(repository_head) X(reference_target)           \
  X(reference_is_branch) X(reference_shorthand) X(reference_free) X(oid_tostr)              \
  X(status_list_new) X(status_list_entrycount) X(status_list_free) X(revparse_single)       \
  X(object_peel) X(object_free) X(commit_id) X(commit_tree) X(commit_free) X(tree_lookup)   \
  X(tree_free) X(tree_entrycount) X(tree_entry_byindex) X(tree_entry_bypath)                \
  X(tree_entry_name) X(tree_entry_filemode) X(tree_entry_type) X(tree_entry_id)             \
  X(tree_entry_free) X(blob_lookup) X(blob_rawcontent) X(blob_rawsize) X(blob_free)         \
  X(revwalk_new) X(revwalk_free) X(revwalk_push_glob) X(revwalk_push_head)                  \
  X(revwalk_sorting) X(revwalk_next) X(commit_lookup) X(repository_path) X(tree_id)         \
  X(blob_is_binary) X(repository_odb) X(odb_read_header) X(odb_free)
// clang-format on

struct Api {
#define PS_GIT_DECLARE(name) decltype(&::git_##name) name = nullptr;
  PS_GIT_FUNCTIONS(PS_GIT_DECLARE)
#undef PS_GIT_DECLARE
  // The last error's message, prefixed by `what`.
  std::string Error(const std::string& what) const;
};

// Loads libgit2 and initialises it (thread-safe, once). A Problem if the
// library is missing or lacks a function.
Result<const Api*> Load();

}  // namespace ps::stages::git
