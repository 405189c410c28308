#include "core/fs.h"

#include <cstdlib>

#include <fcntl.h>
#include <openssl/evp.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <memory>

namespace ps {

namespace {
std::string Errno(const std::string& what, const fs::path& p) {
  return what + " " + p.string() + ": " + std::strerror(errno);
}

std::string Hex(const unsigned char* d, unsigned n) {
  static const char* kDigits = "0123456789abcdef";
  std::string out(n * 2, '0');
  for (unsigned i = 0; i < n; ++i) {
    out[2 * i] = kDigits[d[i] >> 4];
    out[2 * i + 1] = kDigits[d[i] & 15];
  }
  return out;
}

struct MdCtxFree {
  void operator()(EVP_MD_CTX* c) const { EVP_MD_CTX_free(c); }
};
}  // namespace

namespace {

// Reads an opened file whole (closing it): only a regular file, at most
// `max_bytes`. `label` names it in errors.
Result<std::string> ReadOpened(int fd, const std::string& label, std::uint64_t max_bytes) {
  struct Closer {
    int fd;
    ~Closer() { ::close(fd); }
  } closer{fd};
  struct stat st {};
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    return problems::InvalidInput(label + " is not a regular file");
  }
  if (static_cast<std::uint64_t>(st.st_size) > max_bytes) {
    return problems::InvalidInput(label + " is too large (" + std::to_string(st.st_size) +
                                  " bytes, limit " + std::to_string(max_bytes) + ")");
  }
  std::string data;
  data.reserve(static_cast<std::size_t>(st.st_size));
  char buf[65536];
  while (true) {
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return problems::InvalidInput("cannot read " + label + ": " + std::strerror(errno));
    if (n == 0) break;
    data.append(buf, static_cast<std::size_t>(n));
    if (data.size() > max_bytes) {
      return problems::InvalidInput(label + " is too large (limit " + std::to_string(max_bytes) +
                                    " bytes)");
    }
  }
  return data;
}

}  // namespace

Result<std::string> ReadFile(const fs::path& path, std::uint64_t max_bytes) {
  // Opened once and measured through the descriptor: a file replaced by a
  // rename meanwhile is read whole, old or new, never a mix of the two.
  // O_NONBLOCK: opening a FIFO does not wait for a writer (it is then
  // refused as not a regular file); regular files ignore the flag.
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
  if (fd < 0) {
    if (errno == ENOENT) return problems::NotFound("file", path.string());
    return problems::InvalidInput(Errno("cannot open", path));
  }
  return ReadOpened(fd, path.string(), max_bytes);
}

Result<std::string> ReadFileAt(int dir_fd, const std::string& name, const std::string& label,
                               std::uint64_t max_bytes) {
  int fd =
      ::openat(dir_fd, name.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY | O_NOFOLLOW);
  if (fd < 0) {
    if (errno == ENOENT) return problems::NotFound("file", label);
    if (errno == ELOOP) return problems::InvalidInput(label + " is a symbolic link: not followed");
    return problems::InvalidInput("cannot open " + label + ": " + std::strerror(errno));
  }
  return ReadOpened(fd, label, max_bytes);
}

Status SyncDir(const fs::path& dir) {
  int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return problems::Internal(Errno("cannot open directory", dir));
  int rc = ::fsync(fd);
  ::close(fd);
  if (rc != 0) return problems::Internal(Errno("fsync", dir));
  return Ok();
}

Status AppendFile(const fs::path& path, std::string_view data) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
  if (fd < 0) return problems::Internal(Errno("cannot open", path));
  std::size_t off = 0;
  while (off < data.size()) {
    const ssize_t n = ::write(fd, data.data() + off, data.size() - off);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      Status st = problems::Internal(Errno("cannot write", path));
      ::close(fd);
      return st;
    }
    off += static_cast<std::size_t>(n);
  }
  ::close(fd);
  return Ok();
}

namespace {
Problem WriteProblem(const std::string& what, const fs::path& p) {
  if (errno == ENOSPC || errno == EDQUOT) {
    return Problem::Make("disk-full", "Disk full", 507,
                         "no space left to write " + p.string() +
                             ": free some space (the previous file is untouched)");
  }
  return problems::Internal(Errno(what, p));
}
}  // namespace

Status WriteFileAtomic(const fs::path& path, std::string_view data, unsigned mode) {
  fs::path dir = path.parent_path().empty() ? fs::path(".") : path.parent_path();
  std::string tmpl = (dir / ("." + path.filename().string() + ".XXXXXX")).string();
  int fd = ::mkstemp(tmpl.data());
  if (fd < 0) return WriteProblem("cannot create temporary file in", dir);
  std::size_t off = 0;
  while (off < data.size()) {
    ssize_t n = ::write(fd, data.data() + off, data.size() - off);
    if (n < 0) {
      if (errno == EINTR) continue;
      auto p = WriteProblem("write", path);
      ::close(fd);
      ::unlink(tmpl.c_str());
      return p;
    }
    off += static_cast<std::size_t>(n);
  }
  ::fchmod(fd, static_cast<mode_t>(mode));
  const bool synced = ::fsync(fd) == 0;
  const int sync_errno = errno;
  const bool closed = ::close(fd) == 0;  // always closed, even when fsync failed
  if (!synced || !closed) {
    if (!synced) errno = sync_errno;
    auto p = WriteProblem("fsync", path);
    ::unlink(tmpl.c_str());
    return p;
  }
  if (::rename(tmpl.c_str(), path.c_str()) != 0) {
    auto p = problems::Internal(Errno("rename to", path));
    ::unlink(tmpl.c_str());
    return p;
  }
  return SyncDir(dir);
}

std::string Sha256Hex(std::string_view data) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned n = 0;
  EVP_Digest(data.data(), data.size(), md, &n, EVP_sha256(), nullptr);
  return Hex(md, n);
}

Result<std::string> Sha256File(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return problems::NotFound("file", path.string());
  std::unique_ptr<EVP_MD_CTX, MdCtxFree> ctx(EVP_MD_CTX_new());
  EVP_DigestInit_ex(ctx.get(), EVP_sha256(), nullptr);
  std::string buf(1 << 16, '\0');
  while (in) {
    in.read(buf.data(), static_cast<std::streamsize>(buf.size()));
    if (in.gcount() > 0)
      EVP_DigestUpdate(ctx.get(), buf.data(), static_cast<std::size_t>(in.gcount()));
  }
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned n = 0;
  EVP_DigestFinal_ex(ctx.get(), md, &n);
  return Hex(md, n);
}

Status EnsureDir(const fs::path& dir) {
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec)
    return problems::Internal("cannot create directory " + dir.string() + ": " + ec.message());
  return Ok();
}

Status EnsureDirBelow(const fs::path& root, const fs::path& rel) {
  int fd = ::open(root.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return problems::InvalidInput(Errno("cannot open", root));
  fs::path at = root;
  for (const auto& part : rel) {
    const std::string name = part.string();
    if (name.empty() || name == "." || name == "/") continue;
    at /= part;
    if (name == "..") {
      ::close(fd);
      return problems::InvalidInput("refusing a path that leaves " + root.string() + ": " +
                                    rel.string());
    }
    if (::mkdirat(fd, name.c_str(), 0755) != 0 && errno != EEXIST) {
      auto p = problems::InvalidInput(Errno("cannot create", at));
      ::close(fd);
      return p;
    }
    const int next = ::openat(fd, name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    const int err = errno;
    ::close(fd);
    if (next < 0) {
      struct stat st {};
      if (err == ELOOP || (::lstat(at.c_str(), &st) == 0 && S_ISLNK(st.st_mode))) {
        return problems::InvalidInput(at.string() +
                                      " is a symbolic link: not followed (writes stay "
                                      "inside " +
                                      root.string() + ")");
      }
      if (err == ENOTDIR) return problems::InvalidInput(at.string() + " is not a folder");
      errno = err;
      return problems::InvalidInput(Errno("cannot open", at));
    }
    fd = next;
  }
  ::close(fd);
  return Ok();
}

Status EnsurePrivateDir(const fs::path& dir) {
  std::error_code ec;
  if (dir.has_parent_path()) fs::create_directories(dir.parent_path(), ec);
  const bool created = ::mkdir(dir.c_str(), 0700) == 0;
  if (!created && errno != EEXIST) {
    return problems::Internal(Errno("cannot create directory", dir));
  }
  const int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0) {
    const int err = errno;
    struct stat lst {};
    if (err == ELOOP || (::lstat(dir.c_str(), &lst) == 0 && S_ISLNK(lst.st_mode))) {
      return problems::InvalidInput(dir.string() +
                                    " is a symbolic link: the state folder must be a real folder "
                                    "(give --state to put it elsewhere)");
    }
    if (err == ENOTDIR) return problems::InvalidInput(dir.string() + " is not a folder");
    errno = err;
    return problems::InvalidInput(Errno("cannot open", dir));
  }
  struct stat st {};
  Status out = Ok();
  if (::fstat(fd, &st) != 0) {
    out = problems::Internal(Errno("cannot stat", dir));
  } else if (st.st_uid != ::geteuid()) {
    out = problems::InvalidInput(dir.string() + " belongs to another user (uid " +
                                 std::to_string(st.st_uid) + "): not used as the state folder");
  } else if ((st.st_mode & 077) != 0) {
    // Narrowed only when it is a state folder (or empty): a configuration
    // (a repository's, even) must not make ProdSprint lock up any folder of
    // the user's by naming it.
    std::error_code ec;
    bool ours = true;  // holds nothing but what ProdSprint keeps in a state folder
    for (const auto& e : fs::directory_iterator(dir, ec)) {
      static const char* const kOurs[] = {"state.db", "state.db-wal", "state.db-shm", "artifacts",
                                          "logs",     "local",        "reports",      "plan",
                                          "perf",     "cache"};
      const std::string name = e.path().filename().string();
      ours = ours && (std::find(std::begin(kOurs), std::end(kOurs), name) != std::end(kOurs) ||
                      name.rfind("state.db", 0) == 0);
    }
    ours = ours || created;
    if (!ours) {
      out = problems::InvalidInput(dir.string() +
                                   " holds other files and others may read it: not used as the "
                                   "state folder (choose a new or empty folder: state.dir, "
                                   "--state)");
    } else if (::fchmod(fd, 0700) != 0) {
      out = problems::Internal(Errno("cannot make private", dir));
    }
  }
  ::close(fd);
  return out;
}

std::string UserCacheDir() {
  if (const char* x = std::getenv("XDG_CACHE_HOME"); x && *x) return std::string(x) + "/prodsprint";
  if (const char* h = std::getenv("HOME"); h && *h) return std::string(h) + "/.cache/prodsprint";
  return {};
}

}  // namespace ps
