#include "adapters/archive/archive_codec.hpp"

#include "adapters/archive/zstd_free.hpp"

#include <msgpack.hpp>

#include <map>
#include <memory>
#include <mutex>

namespace psp::archive {

namespace {

constexpr char format_v1 = 1;
// Level 3 packs a payment in tens of microseconds; 19 saves ~10 % more
// for ~20x the time (docs/performance.md).
constexpr int compression_level = 3;
// A payment's objects unpack to ~3 KB; anything far larger is not ours.
constexpr unsigned long long max_unpacked_bytes = 1u << 20;

// zstd's digested dictionaries, built once per dictionary and shared
// read-only by every thread. Keyed by id, checked against the bytes: two
// Redis servers (tests) may each have a dictionary 1.
struct digested {
  std::string bytes;
  std::shared_ptr<ZSTD_CDict> compress;
  std::shared_ptr<ZSTD_DDict> decompress;
};

std::shared_ptr<const digested> digest_of(const dictionary& dict) {
  static std::mutex mutex;
  static std::map<uint64_t, std::shared_ptr<const digested>> cache;
  std::lock_guard<std::mutex> lock{mutex};
  auto& slot = cache[dict.id];
  if (!slot || slot->bytes != dict.bytes) {
    auto d = std::make_shared<digested>();
    d->bytes = dict.bytes;
    d->compress.reset(ZSTD_createCDict(dict.bytes.data(), dict.bytes.size(),
                                       compression_level),
                      zstd_free{});
    d->decompress.reset(
      ZSTD_createDDict(dict.bytes.data(), dict.bytes.size()), zstd_free{});
    slot = std::move(d);
  }
  return slot;
}

void put_varint(std::string& out, uint64_t v) {
  while (v >= 0x80) {
    out.push_back(static_cast<char>((v & 0x7f) | 0x80));
    v >>= 7;
  }
  out.push_back(static_cast<char>(v));
}

// The dictionary id after the format byte, and where the frame starts.
std::optional<std::pair<uint64_t, size_t>> read_header(std::string_view b) {
  if (b.size() < 2 || b[0] != format_v1) {
    return std::nullopt;
  }
  uint64_t v = 0;
  for (size_t i = 1, shift = 0; i < b.size() && shift < 64; ++i, shift += 7) {
    auto byte = static_cast<unsigned char>(b[i]);
    v |= static_cast<uint64_t>(byte & 0x7f) << shift;
    if ((byte & 0x80) == 0) {
      return std::make_pair(v, i + 1);
    }
  }
  return std::nullopt;
}

} // namespace

const std::string* field_of(const stored_object& o, std::string_view name) {
  for (auto& [field, value] : o.fields) {
    if (field == name) {
      return &value;
    }
  }
  return nullptr;
}

std::string serialize(const std::vector<stored_object>& objects) {
  msgpack::sbuffer buf;
  msgpack::packer<msgpack::sbuffer> out{buf};
  out.pack_array(static_cast<uint32_t>(objects.size()));
  for (auto& o : objects) {
    out.pack_array(static_cast<uint32_t>(1 + 2 * o.fields.size()));
    out.pack(o.key);
    for (auto& [field, value] : o.fields) {
      out.pack(field);
      out.pack(value);
    }
  }
  return std::string{buf.data(), buf.size()};
}

std::string dictionary_bytes_for(
  const std::vector<std::vector<stored_object>>& payments) {
  // The merchant's own payments last: zstd reaches recent bytes with the
  // shortest offsets.
  auto out = template_bytes();
  for (size_t i = 0; i < payments.size() && i < dictionary_payments_max; ++i) {
    out += serialize(payments[i]);
  }
  return out;
}

std::string pack(const std::vector<stored_object>& objects,
                 const dictionary& dict) {
  thread_local std::unique_ptr<ZSTD_CCtx, zstd_free> ctx{ZSTD_createCCtx()};
  auto d = digest_of(dict);
  if (!d->compress) {
    return "";
  }
  auto plain = serialize(objects);
  std::string out(1, format_v1);
  put_varint(out, dict.id);
  auto header = out.size();
  out.resize(header + ZSTD_compressBound(plain.size()));
  // A checksum (4 bytes): a damaged blob, or other bytes stored under its
  // dictionary's id, must fail to unpack rather than read as another
  // payment (a raw dictionary has no id of its own in the frame).
  ZSTD_CCtx_reset(ctx.get(), ZSTD_reset_session_and_parameters);
  ZSTD_CCtx_setParameter(ctx.get(), ZSTD_c_checksumFlag, 1);
  ZSTD_CCtx_refCDict(ctx.get(), d->compress.get());
  auto n = ZSTD_compress2(ctx.get(), out.data() + header, out.size() - header,
                          plain.data(), plain.size());
  if (ZSTD_isError(n)) {
    return "";
  }
  out.resize(header + n);
  return out;
}

std::optional<uint64_t> dictionary_id_of(std::string_view blob) {
  auto h = read_header(blob);
  if (!h) {
    return std::nullopt;
  }
  return h->first;
}

std::optional<std::vector<stored_object>> unpack(std::string_view blob,
                                                 const dictionary& dict) {
  auto h = read_header(blob);
  if (!h || h->first != dict.id) {
    return std::nullopt;
  }
  auto frame = blob.substr(h->second);
  auto size = ZSTD_getFrameContentSize(frame.data(), frame.size());
  if (size == ZSTD_CONTENTSIZE_ERROR || size == ZSTD_CONTENTSIZE_UNKNOWN
      || size > max_unpacked_bytes) {
    return std::nullopt;
  }
  auto d = digest_of(dict);
  if (!d->decompress) {
    return std::nullopt;
  }
  thread_local std::unique_ptr<ZSTD_DCtx, zstd_free> ctx{ZSTD_createDCtx()};
  std::string plain(size, '\0');
  auto n = ZSTD_decompress_usingDDict(ctx.get(), plain.data(), plain.size(),
                                      frame.data(), frame.size(),
                                      d->decompress.get());
  if (ZSTD_isError(n) || n != size) {
    return std::nullopt;
  }
  try {
    size_t read = 0;
    auto handle = msgpack::unpack(plain.data(), plain.size(), read);
    auto& top = handle.get();
    if (top.type != msgpack::type::ARRAY || read != plain.size()) {
      return std::nullopt;
    }
    std::vector<stored_object> objects;
    objects.reserve(top.via.array.size);
    for (uint32_t i = 0; i < top.via.array.size; ++i) {
      auto& item = top.via.array.ptr[i];
      if (item.type != msgpack::type::ARRAY || item.via.array.size % 2 != 1) {
        return std::nullopt;
      }
      stored_object o;
      o.key = item.via.array.ptr[0].as<std::string>();
      for (uint32_t f = 1; f + 1 < item.via.array.size; f += 2) {
        o.fields.emplace_back(item.via.array.ptr[f].as<std::string>(),
                              item.via.array.ptr[f + 1].as<std::string>());
      }
      objects.push_back(std::move(o));
    }
    return objects;
  } catch (const std::exception&) {
    return std::nullopt;
  }
}

} // namespace psp::archive
