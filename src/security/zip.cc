#include "security/zip.h"

#include <zlib.h>

#include <cstring>

namespace ps::security {
namespace {

std::uint32_t U16(std::string_view s, std::size_t at) {
  return static_cast<std::uint32_t>(static_cast<unsigned char>(s[at])) |
         static_cast<std::uint32_t>(static_cast<unsigned char>(s[at + 1])) << 8;
}
std::uint32_t U32(std::string_view s, std::size_t at) { return U16(s, at) | U16(s, at + 2) << 16; }
std::uint64_t U64(std::string_view s, std::size_t at) {
  return static_cast<std::uint64_t>(U32(s, at)) | static_cast<std::uint64_t>(U32(s, at + 4)) << 32;
}

Problem Bad(const std::string& why) {
  return problems::InvalidInput("not a readable zip archive: " + why);
}

Result<std::string> Inflate(std::string_view in, std::uint64_t size, std::uint64_t cap) {
  if (size > cap) return Bad("an entry is larger than " + std::to_string(cap >> 20) + " MiB");
  std::string out(size, '\0');
  z_stream z;
  std::memset(&z, 0, sizeof z);
  if (inflateInit2(&z, -MAX_WBITS) != Z_OK) return Bad("zlib could not start");
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
  z.avail_in = static_cast<uInt>(std::min<std::size_t>(in.size(), 0xFFFFFFFFu));
  z.next_out = reinterpret_cast<Bytef*>(out.data());
  z.avail_out = static_cast<uInt>(size);
  int rc = size == 0 ? Z_STREAM_END : inflate(&z, Z_FINISH);
  const auto produced = z.total_out;
  inflateEnd(&z);
  if (rc != Z_STREAM_END || produced != size) return Bad("a deflated entry is corrupt");
  return out;
}

}  // namespace

Status ReadZip(std::string_view a,
               const std::function<bool(const std::string&, const std::string&)>& entry,
               const ZipLimits& limits) {
  // End of central directory: the last signature within 64 KiB + 22 bytes.
  if (a.size() < 22) return Bad("too short");
  std::size_t eocd = std::string_view::npos;
  const std::size_t lowest = a.size() > 65557 ? a.size() - 65557 : 0;
  for (std::size_t i = a.size() - 22 + 1; i-- > lowest;) {
    if (U32(a, i) == 0x06054b50) {
      eocd = i;
      break;
    }
  }
  if (eocd == std::string_view::npos) return Bad("no end of central directory");
  std::uint64_t count = U16(a, eocd + 10);
  std::uint64_t cd_size = U32(a, eocd + 12);
  std::uint64_t cd_offset = U32(a, eocd + 16);
  // Zip64: the locator sits just before the end record.
  if ((count == 0xFFFF || cd_offset == 0xFFFFFFFF) && eocd >= 20 &&
      U32(a, eocd - 20) == 0x07064b50) {
    const std::uint64_t z64 = U64(a, eocd - 20 + 8);
    if (z64 > a.size() - 56 || U32(a, z64) != 0x06064b50) return Bad("bad zip64 record");
    count = U64(a, z64 + 32);
    cd_size = U64(a, z64 + 40);
    cd_offset = U64(a, z64 + 48);
  }
  if (cd_offset > a.size() || cd_size > a.size() - cd_offset)
    return Bad("central directory out of range");
  if (count > limits.max_entries) return Bad("too many entries");
  std::size_t p = cd_offset;
  std::uint64_t total = 0;
  for (std::uint64_t k = 0; k < count; ++k) {
    if (p + 46 > a.size() || U32(a, p) != 0x02014b50) return Bad("broken central directory entry");
    const std::uint32_t method = U16(a, p + 10);
    const std::uint32_t crc = U32(a, p + 16);
    std::uint64_t csize = U32(a, p + 20), usize = U32(a, p + 24);
    const std::size_t name_len = U16(a, p + 28), extra_len = U16(a, p + 30),
                      comment_len = U16(a, p + 32);
    std::uint64_t local = U32(a, p + 42);
    if (p + 46 + name_len + extra_len + comment_len > a.size())
      return Bad("entry runs past the end");
    const std::string name(a.substr(p + 46, name_len));
    // Zip64 extra field: the sizes and offset that overflowed, in order.
    std::size_t x = p + 46 + name_len;
    const std::size_t x_end = x + extra_len;
    while (x + 4 <= x_end) {
      const std::uint32_t id = U16(a, x), len = U16(a, x + 2);
      if (x + 4 + len > x_end) break;
      if (id == 0x0001) {
        std::size_t f = x + 4;
        auto take = [&](std::uint64_t& v) {
          if (v == 0xFFFFFFFF && f + 8 <= x + 4 + len) {
            v = U64(a, f);
            f += 8;
          }
        };
        take(usize);
        take(csize);
        take(local);
      }
      x += 4 + len;
    }
    p += 46 + name_len + extra_len + comment_len;
    if (!name.empty() && name.back() == '/') continue;  // a folder
    if (local > a.size() - 30 || U32(a, local) != 0x04034b50) return Bad("broken local header");
    const std::size_t data = local + 30 + U16(a, local + 26) + U16(a, local + 28);
    if (data > a.size() || csize > a.size() - data) return Bad("entry data out of range");
    if (usize > limits.max_entry_bytes) {
      return Bad("entry '" + name + "' is larger than " +
                 std::to_string(limits.max_entry_bytes >> 20) + " MiB");
    }
    total += usize;
    if (total > limits.max_total_bytes) return Bad("archive expands beyond the limit");
    const std::string_view raw = a.substr(data, csize);
    std::string content;
    if (method == 0) {
      if (csize != usize) return Bad("stored entry with two sizes");
      content.assign(raw);
    } else if (method == 8) {
      PS_ASSIGN(content, Inflate(raw, usize, limits.max_entry_bytes));
    } else {
      return Bad("entry '" + name + "' uses compression method " + std::to_string(method) +
                 " (only stored and deflate are read)");
    }
    const auto actual = crc32(0L, reinterpret_cast<const Bytef*>(content.data()),
                              static_cast<uInt>(content.size()));
    if (actual != crc) return Bad("CRC mismatch in '" + name + "'");
    if (!entry(name, content)) break;
  }
  return Ok();
}

}  // namespace ps::security
