#include "adapters/codec/form_decode.hpp"

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <vector>

namespace psp::codec {

namespace {

using nlohmann::json;

enum class segment_kind { name, index, append };

/// One part of a key: the leading name or one bracket pair.
struct segment {
  segment_kind kind = segment_kind::name;
  std::string name;
  size_t index = 0;
};

/// The decoded body before it becomes JSON. Keeping numeric indexes in a
/// map lets pairs arrive in any order; density is checked at the end.
struct node {
  enum class kind { unset, scalar, object, indexed, appended };
  kind k = kind::unset;
  std::string value;
  std::map<std::string, std::unique_ptr<node>> children;
  std::map<size_t, std::unique_ptr<node>> items;
  std::vector<std::string> appended;
};

form_error make_error(std::string message, std::string param) {
  return form_error{std::move(message), std::move(param)};
}

/// Keeps error payloads small even when the offending key is huge.
std::string clip(std::string_view s, size_t size_max) {
  return std::string(s.substr(0, size_max));
}

/// Length of the UTF-8 sequence starting at `s[i]`, or 0 if it is invalid
/// (truncated, overlong, a surrogate or above U+10FFFF).
size_t utf8_sequence_size(std::string_view s, size_t i) {
  auto byte = [&](size_t k) { return static_cast<uint8_t>(s[k]); };
  uint8_t b0 = byte(i);
  if (b0 < 0x80) {
    return 1;
  }
  size_t size = b0 >= 0xc2 && b0 <= 0xdf   ? 2
                : b0 >= 0xe0 && b0 <= 0xef ? 3
                : b0 >= 0xf0 && b0 <= 0xf4 ? 4
                                           : 0;
  if (size == 0 || i + size > s.size()) {
    return 0;
  }
  for (size_t k = 1; k < size; ++k) {
    if ((byte(i + k) & 0xc0) != 0x80) {
      return 0;
    }
  }
  uint8_t b1 = byte(i + 1);
  if ((b0 == 0xe0 && b1 < 0xa0) || (b0 == 0xed && b1 > 0x9f) ||
      (b0 == 0xf0 && b1 < 0x90) || (b0 == 0xf4 && b1 > 0x8f)) {
    return 0;
  }
  return size;
}

bool valid_utf8(std::string_view s) {
  for (size_t i = 0; i < s.size();) {
    size_t size = utf8_sequence_size(s, i);
    if (size == 0) {
      return false;
    }
    i += size;
  }
  return true;
}

/// Classifies the text between one pair of brackets.
std::optional<form_error> parse_segment(std::string_view inner,
                                        std::string_view key,
                                        const form_limits& limits,
                                        segment& out) {
  if (inner.empty()) {
    out.kind = segment_kind::append;
    return std::nullopt;
  }
  bool all_digits = inner.find_first_not_of("0123456789") == inner.npos;
  if (!all_digits) {
    out.kind = segment_kind::name;
    out.name = std::string(inner);
    return std::nullopt;
  }
  if (inner.size() > 1 && inner[0] == '0') {
    // "01" and "1" would name the same element.
    return make_error("Invalid array index (leading zero) in " +
                          std::string(key),
                      std::string(key));
  }
  size_t index = 0;
  for (char c : inner) {
    bool overflow =
        __builtin_mul_overflow(index, size_t{10}, &index) ||
        __builtin_add_overflow(index, static_cast<size_t>(c - '0'), &index);
    if (overflow || index > limits.array_index_max) {
      return make_error("Array index too large in " + std::string(key) +
                            " (max " + std::to_string(limits.array_index_max) +
                            ")",
                        std::string(key));
    }
  }
  out.kind = segment_kind::index;
  out.index = index;
  return std::nullopt;
}

/// Splits `name[a][0][]` into segments, checking brackets and limits.
std::optional<form_error> parse_key(std::string_view key,
                                    const form_limits& limits,
                                    std::vector<segment>& path) {
  std::string param{key};
  auto unbalanced = [&] {
    return make_error("Unbalanced brackets in parameter name " + param, param);
  };
  size_t pos = key.find('[');
  std::string_view name = key.substr(0, pos);
  if (name.find(']') != name.npos) {
    return unbalanced();
  }
  if (name.empty()) {
    return make_error("Empty parameter name", param);
  }
  path.push_back(segment{segment_kind::name, std::string(name), 0});
  while (pos < key.size()) {
    if (key[pos] != '[') {
      return unbalanced(); // text after a ']', e.g. "a[b]c"
    }
    size_t close = key.find(']', pos + 1);
    if (close == key.npos) {
      return unbalanced();
    }
    std::string_view inner = key.substr(pos + 1, close - pos - 1);
    if (inner.find('[') != inner.npos) {
      return unbalanced();
    }
    if (path.size() > limits.depth_max) {
      return make_error("Parameter " + param + " is nested too deeply (max " +
                            std::to_string(limits.depth_max) + ")",
                        param);
    }
    segment seg;
    if (path.back().kind == segment_kind::name &&
        path.back().name == "metadata" && !inner.empty()) {
      // Metadata keys are the merchant's strings: `metadata[0]` is the key
      // "0", as at Stripe, not the first element of an array.
      seg.name = std::string(inner);
    } else if (auto err = parse_segment(inner, key, limits, seg)) {
      return err;
    }
    path.push_back(std::move(seg));
    pos = close + 1;
  }
  for (size_t i = 0; i + 1 < path.size(); ++i) {
    if (path[i].kind == segment_kind::append) {
      return make_error("[] is only allowed at the end of parameter " + param,
                        param);
    }
  }
  return std::nullopt;
}

const char* describe(node::kind k) {
  switch (k) {
  case node::kind::object:
    return "named keys";
  case node::kind::indexed:
    return "numeric indexes";
  case node::kind::appended:
    return "[]";
  default:
    return "a value";
  }
}

node::kind container_for(segment_kind k) {
  switch (k) {
  case segment_kind::name:
    return node::kind::object;
  case segment_kind::index:
    return node::kind::indexed;
  default:
    return node::kind::appended;
  }
}

std::string spell(const std::vector<segment>& path, size_t count) {
  std::string out = path[0].name;
  for (size_t i = 1; i < count; ++i) {
    out += '[';
    if (path[i].kind == segment_kind::name) {
      out += path[i].name;
    } else if (path[i].kind == segment_kind::index) {
      out += std::to_string(path[i].index);
    }
    out += ']';
  }
  return out;
}

/// Stores one decoded pair in the tree.
std::optional<form_error> insert(node& root, const std::vector<segment>& path,
                                 std::string value, std::string_view key,
                                 const form_limits& limits) {
  std::string param{key};
  node* cur = &root;
  for (size_t i = 0; i < path.size(); ++i) {
    const segment& seg = path[i];
    node::kind wanted = container_for(seg.kind);
    if (cur->k == node::kind::unset) {
      cur->k = wanted;
    } else if (cur->k == node::kind::scalar) {
      return make_error("Parameter " + spell(path, i) +
                            " is used both as a value and as an object or "
                            "array",
                        param);
    } else if (cur->k != wanted) {
      return make_error("Parameter " + spell(path, i) + " mixes " +
                            describe(cur->k) + " and " + describe(wanted),
                        param);
    }
    if (seg.kind == segment_kind::append) {
      if (cur->appended.size() > limits.array_index_max) {
        return make_error("Too many elements in array " + spell(path, i) +
                              " (max " +
                              std::to_string(limits.array_index_max + 1) + ")",
                          param);
      }
      cur->appended.push_back(std::move(value));
      return std::nullopt;
    }
    auto& slot = seg.kind == segment_kind::name ? cur->children[seg.name]
                                                : cur->items[seg.index];
    if (!slot) {
      slot = std::make_unique<node>();
    }
    cur = slot.get();
  }
  if (cur->k == node::kind::scalar) {
    return make_error("Duplicate parameter " + param, param);
  }
  if (cur->k != node::kind::unset) {
    return make_error("Parameter " + param +
                          " is used both as a value and as an object or array",
                      param);
  }
  cur->k = node::kind::scalar;
  cur->value = std::move(value);
  return std::nullopt;
}

std::string child_param(const std::string& parent, const std::string& name) {
  return parent.empty() ? name : parent + "[" + name + "]";
}

/// Turns the tree into JSON, rejecting arrays with gaps.
std::optional<form_error> to_json(const node& n, const std::string& param,
                                  json& out) {
  switch (n.k) {
  case node::kind::unset: // unreachable: every created node gets a kind
  case node::kind::scalar:
    out = n.value;
    return std::nullopt;
  case node::kind::appended:
    out = json::array();
    for (const auto& v : n.appended) {
      out.push_back(v);
    }
    return std::nullopt;
  case node::kind::object:
    out = json::object();
    for (const auto& [name, child] : n.children) {
      if (auto err = to_json(*child, child_param(param, name), out[name])) {
        return err;
      }
    }
    return std::nullopt;
  case node::kind::indexed: {
    out = json::array();
    size_t expected = 0;
    for (const auto& [index, child] : n.items) {
      std::string item_param = child_param(param, std::to_string(index));
      if (index != expected) {
        return make_error("Array indexes must be dense from 0: " +
                              child_param(param, std::to_string(expected)) +
                              " is missing before " + item_param,
                          item_param);
      }
      out.push_back(json());
      if (auto err = to_json(*child, item_param, out.back())) {
        return err;
      }
      ++expected;
    }
    return std::nullopt;
  }
  }
  return std::nullopt;
}

/// Decodes one `key=value` pair into the tree.
std::optional<form_error> decode_pair(std::string_view pair, node& root,
                                      const form_limits& limits) {
  size_t eq = pair.find('=');
  std::string_view raw_key = pair.substr(0, eq);
  std::string_view raw_value =
      eq == pair.npos ? std::string_view{} : pair.substr(eq + 1);
  bool ok = false;
  std::string key = url_decode_component(raw_key, &ok);
  if (!ok) {
    return make_error("Invalid percent-encoding in parameter name",
                      clip(raw_key, limits.key_length_max));
  }
  if (key.size() > limits.key_length_max) {
    return make_error("Parameter name is too long (max " +
                          std::to_string(limits.key_length_max) + " bytes)",
                      clip(key, limits.key_length_max));
  }
  if (!valid_utf8(key)) {
    return make_error("Parameter name is not valid UTF-8", "");
  }
  std::string value = url_decode_component(raw_value, &ok);
  if (!ok) {
    return make_error("Invalid percent-encoding in the value of " + key, key);
  }
  if (value.size() > limits.value_length_max) {
    return make_error("Value of " + key + " is too long (max " +
                          std::to_string(limits.value_length_max) + " bytes)",
                      key);
  }
  if (!valid_utf8(value)) {
    return make_error("Value of " + key + " is not valid UTF-8", key);
  }
  // Valid UTF-8, but a C string, a PostgreSQL text column or a log line
  // downstream ends at a NUL (the API audit stored `description=a%00b`).
  if (key.find('\0') != std::string::npos) {
    return make_error("Parameter name holds a NUL character (%00)", "");
  }
  if (value.find('\0') != std::string::npos) {
    return make_error("Value of " + key + " holds a NUL character (%00)", key);
  }
  std::vector<segment> path;
  if (auto err = parse_key(key, limits, path)) {
    return err;
  }
  return insert(root, path, std::move(value), key, limits);
}

std::variant<json, form_error> decode_form_impl(std::string_view body,
                                                const form_limits& limits) {
  node root;
  root.k = node::kind::object;
  size_t pairs = 0;
  size_t start = 0;
  while (start <= body.size()) {
    size_t amp = body.find('&', start);
    if (amp == body.npos) {
      amp = body.size();
    }
    std::string_view pair = body.substr(start, amp - start);
    start = amp + 1;
    if (pair.empty()) {
      continue;
    }
    if (++pairs > limits.params_max) {
      return make_error("Too many parameters (max " +
                            std::to_string(limits.params_max) + ")",
                        "");
    }
    if (auto err = decode_pair(pair, root, limits)) {
      return *err;
    }
  }
  json out;
  if (auto err = to_json(root, "", out)) {
    return *err;
  }
  return out;
}

} // namespace

std::variant<json, form_error> decode_form(std::string_view body,
                                           const form_limits& limits) {
  try {
    return decode_form_impl(body, limits);
  } catch (const std::exception&) {
    // Only allocation failure can get here; the contract is never to throw.
    return make_error("Could not decode the request body", "");
  }
}

} // namespace psp::codec
