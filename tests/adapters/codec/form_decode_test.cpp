// Checks that Stripe-style form bodies decode into the expected JSON and
// that every malformed or oversized body is rejected with the right param.

#include "adapters/codec/form_decode.hpp"

#include <gtest/gtest.h>

#include <random>
#include <string>

using namespace psp::codec;
using nlohmann::json;

namespace {

/// Decodes a body that must succeed.
json ok(std::string_view body, const form_limits& limits = {}) {
  auto result = decode_form(body, limits);
  if (auto* err = std::get_if<form_error>(&result)) {
    ADD_FAILURE() << "unexpected error for '" << body << "': " << err->message
                  << " (param " << err->param << ")";
    return json();
  }
  return std::get<json>(result);
}

/// Decodes a body that must fail.
form_error fail(std::string_view body, const form_limits& limits = {}) {
  auto result = decode_form(body, limits);
  if (auto* out = std::get_if<json>(&result)) {
    ADD_FAILURE() << "'" << body << "' decoded to " << out->dump();
    return form_error{};
  }
  auto err = std::get<form_error>(result);
  EXPECT_FALSE(err.message.empty()) << body;
  return err;
}

bool contains(const std::string& text, std::string_view part) {
  return text.find(part) != std::string::npos;
}

} // namespace

// -- happy paths --------------------------------------------------------------

TEST(form_decode, empty_body_is_an_empty_object) {
  EXPECT_EQ(ok(""), json::object());
  EXPECT_EQ(ok("&"), json::object());
  EXPECT_EQ(ok("&&&"), json::object());
}

TEST(form_decode, flat_pairs) {
  EXPECT_EQ(ok("a=1&b=2"), (json{{"a", "1"}, {"b", "2"}}));
}

TEST(form_decode, leaves_are_always_strings) {
  auto out = ok("amount=2000&livemode=true&rate=1.5&none=null");
  EXPECT_EQ(out, (json{{"amount", "2000"},
                       {"livemode", "true"},
                       {"rate", "1.5"},
                       {"none", "null"}}));
  EXPECT_TRUE(out["amount"].is_string());
}

TEST(form_decode, empty_values_pairs_without_equals_and_empty_pairs) {
  EXPECT_EQ(ok("a=&b"), (json{{"a", ""}, {"b", ""}}));
  EXPECT_EQ(ok("a=1&&b=2&"), (json{{"a", "1"}, {"b", "2"}}));
  EXPECT_EQ(ok("a=b=c"), (json{{"a", "b=c"}}));
}

TEST(form_decode, named_brackets_make_an_object) {
  EXPECT_EQ(ok("metadata[order]=7"), (json{{"metadata", {{"order", "7"}}}}));
  EXPECT_EQ(ok("metadata[order]=7&metadata[customer]=c1"),
            (json{{"metadata", {{"order", "7"}, {"customer", "c1"}}}}));
}

TEST(form_decode, stripe_line_items) {
  auto out = ok("line_items[0][price_data][unit_amount]=2000"
                "&line_items[0][quantity]=1&line_items[1][quantity]=2");
  auto expected = json::parse(R"({"line_items":[
      {"price_data":{"unit_amount":"2000"},"quantity":"1"},
      {"quantity":"2"}]})");
  EXPECT_EQ(out, expected);
}

TEST(form_decode, numeric_indexes_may_come_in_any_order) {
  EXPECT_EQ(ok("a[2]=z&a[0]=x&a[1]=y"), (json{{"a", {"x", "y", "z"}}}));
  EXPECT_EQ(ok("l[1][q]=2&l[0][p]=a&l[0][q]=1"),
            json::parse(R"({"l":[{"p":"a","q":"1"},{"q":"2"}]})"));
}

TEST(form_decode, empty_brackets_append) {
  EXPECT_EQ(ok("tags[]=a&tags[]=b"), (json{{"tags", {"a", "b"}}}));
  EXPECT_EQ(ok("expand[]=x"), (json{{"expand", {"x"}}}));
  EXPECT_EQ(ok("a[b][]=1&a[b][]=2&a[c]=3"),
            json::parse(R"({"a":{"b":["1","2"],"c":"3"}})"));
  EXPECT_EQ(ok("a[0][]=1&a[0][]=2"), json::parse(R"({"a":[["1","2"]]})"));
}

TEST(form_decode, keys_and_values_are_percent_decoded) {
  EXPECT_EQ(ok("metadata%5Border%5D=7"),
            (json{{"metadata", {{"order", "7"}}}}));
  EXPECT_EQ(ok("name=John+Doe&city=S%C3%A3o%20Paulo"),
            (json{{"name", "John Doe"}, {"city", "S\xc3\xa3o Paulo"}}));
  EXPECT_EQ(ok("v=%26%3D%2B%25"), (json{{"v", "&=+%"}}));
  EXPECT_EQ(ok("v=%e2%82%ac"), (json{{"v", "\xe2\x82\xac"}}));
  EXPECT_EQ(ok("metadata[a+b]=1"), (json{{"metadata", {{"a b", "1"}}}}));
}

TEST(form_decode, numeric_names_at_top_level_are_keys) {
  EXPECT_EQ(ok("0=a&1=b"), (json{{"0", "a"}, {"1", "b"}}));
}

TEST(form_decode, numeric_metadata_keys_are_keys_not_indexes) {
  EXPECT_EQ(ok("metadata[0]=a&metadata[7]=b"),
            (json{{"metadata", {{"0", "a"}, {"7", "b"}}}}));
  EXPECT_EQ(ok("metadata[007]=x"), (json{{"metadata", {{"007", "x"}}}}));
  EXPECT_EQ(ok("pi[metadata][3]=x"),
            json::parse(R"({"pi":{"metadata":{"3":"x"}}})"));
  // Only the segment right after `metadata`; elsewhere digits index.
  EXPECT_EQ(ok("metadata[a][0]=x"),
            json::parse(R"({"metadata":{"a":["x"]}})"));
  EXPECT_EQ(fail("items[1]=x").param, "items[1]");
}

TEST(form_decode, limits_are_inclusive) {
  std::string body;
  for (int i = 0; i < 1000; ++i) {
    body += "k" + std::to_string(i) + "=v&";
  }
  EXPECT_EQ(ok(body).size(), 1000u);
  EXPECT_EQ(ok("a[b][c][d][e][f]=1"),
            json::parse(R"({"a":{"b":{"c":{"d":{"e":{"f":"1"}}}}}})"));
  EXPECT_EQ(ok(std::string(256, 'k') + "=v").size(), 1u);
  EXPECT_EQ(ok("k=" + std::string(8192, 'v'))["k"].get<std::string>().size(),
            8192u);
  std::string dense;
  for (int i = 0; i <= 100; ++i) {
    dense += "a[" + std::to_string(i) + "]=x&";
  }
  EXPECT_EQ(ok(dense)["a"].size(), 101u);
}

// -- rejections ---------------------------------------------------------------

TEST(form_decode, rejects_malformed_percent_escapes) {
  for (auto body : {"a=%", "a=%4", "a=%zz", "a=%g0", "a=1%2", "a=%%41"}) {
    auto err = fail(body);
    EXPECT_TRUE(contains(err.message, "percent")) << err.message;
    EXPECT_EQ(err.param, "a") << body;
  }
  auto err = fail("a%5=1");
  EXPECT_TRUE(contains(err.message, "percent")) << err.message;
  EXPECT_EQ(err.param, "a%5");
  EXPECT_EQ(fail("metadata[x]=%ZZ").param, "metadata[x]");
}

TEST(form_decode, rejects_unbalanced_brackets) {
  for (auto body : {"a[b=1", "a]=1", "a[b]]=1", "a[b]c=1", "a[[b]]=1",
                    "a[b[c]]=1", "a[=1", "a[b][=1", "a]b[=1"}) {
    auto err = fail(body);
    EXPECT_TRUE(contains(err.message, "Unbalanced brackets"))
        << body << ": " << err.message;
    std::string key(body);
    EXPECT_EQ(err.param, key.substr(0, key.find('='))) << body;
  }
}

TEST(form_decode, rejects_empty_keys) {
  for (auto body : {"=1", "=", "[a]=1", "[]=1", "a=1&=2"}) {
    auto err = fail(body);
    EXPECT_TRUE(contains(err.message, "Empty parameter name"))
        << body << ": " << err.message;
  }
}

TEST(form_decode, rejects_a_key_used_as_value_and_container) {
  auto err = fail("a=1&a[b]=2");
  EXPECT_TRUE(contains(err.message, "both")) << err.message;
  EXPECT_EQ(err.param, "a[b]");
  err = fail("a[b]=2&a=1");
  EXPECT_TRUE(contains(err.message, "both")) << err.message;
  EXPECT_EQ(err.param, "a");
  EXPECT_EQ(fail("a[0]=1&a[0][b]=2").param, "a[0][b]");
  EXPECT_EQ(fail("a[0][b]=2&a[0]=1").param, "a[0]");
  EXPECT_EQ(fail("tags[]=a&tags=b").param, "tags");
  EXPECT_EQ(fail("tags=b&tags[]=a").param, "tags[]");
  EXPECT_EQ(fail("a=1&a[0]=2").param, "a[0]");
}

TEST(form_decode, rejects_mixing_indexes_names_and_appends) {
  struct row {
    const char* body;
    const char* param;
  };
  for (auto r : {row{"a[0]=1&a[b]=2", "a[b]"}, row{"a[b]=1&a[0]=2", "a[0]"},
                 row{"a[]=1&a[0]=2", "a[0]"}, row{"a[0]=1&a[]=2", "a[]"},
                 row{"a[b]=1&a[]=2", "a[]"}, row{"a[]=1&a[b]=2", "a[b]"},
                 row{"x[y][0]=1&x[y][z]=2", "x[y][z]"}}) {
    auto err = fail(r.body);
    EXPECT_TRUE(contains(err.message, "mixes"))
        << r.body << ": " << err.message;
    EXPECT_EQ(err.param, r.param) << r.body;
  }
}

TEST(form_decode, rejects_duplicate_scalars) {
  for (auto [body, param] :
       {std::pair{"a=1&a=2", "a"}, std::pair{"a=1&a=1", "a"},
        std::pair{"m[k]=1&m[k]=2", "m[k]"}, std::pair{"a[0]=1&a[0]=2", "a[0]"},
        std::pair{"a=1&b=2&a", "a"}}) {
    auto err = fail(body);
    EXPECT_TRUE(contains(err.message, "Duplicate")) << err.message;
    EXPECT_EQ(err.param, param) << body;
  }
}

TEST(form_decode, rejects_gaps_in_arrays) {
  auto err = fail("a[0]=x&a[2]=y");
  EXPECT_EQ(err.param, "a[2]");
  EXPECT_TRUE(contains(err.message, "a[1] is missing")) << err.message;
  EXPECT_EQ(fail("a[1]=x").param, "a[1]");
  EXPECT_EQ(fail("line_items[0][quantity]=1&line_items[2][quantity]=1").param,
            "line_items[2]");
  EXPECT_EQ(fail("m[l][1][q]=1").param, "m[l][1]");
}

TEST(form_decode, rejects_append_before_the_end_and_padded_indexes) {
  auto err = fail("a[][b]=1");
  EXPECT_TRUE(contains(err.message, "[]")) << err.message;
  EXPECT_EQ(err.param, "a[][b]");
  err = fail("a[01]=1");
  EXPECT_TRUE(contains(err.message, "leading zero")) << err.message;
  EXPECT_EQ(err.param, "a[01]");
}

TEST(form_decode, rejects_too_many_params) {
  form_limits limits;
  limits.params_max = 3;
  EXPECT_EQ(ok("a=1&b=2&c=3", limits).size(), 3u);
  auto err = fail("a=1&b=2&c=3&d=4", limits);
  EXPECT_TRUE(contains(err.message, "Too many parameters")) << err.message;
  // Empty pairs do not count.
  EXPECT_EQ(ok("a=1&&&b=2&&c=3&", limits).size(), 3u);
  std::string body;
  for (int i = 0; i < 1001; ++i) {
    body += "k" + std::to_string(i) + "=v&";
  }
  fail(body);
}

TEST(form_decode, rejects_too_deep_nesting) {
  auto err = fail("a[b][c][d][e][f][g]=1");
  EXPECT_TRUE(contains(err.message, "nested too deeply")) << err.message;
  EXPECT_EQ(err.param, "a[b][c][d][e][f][g]");
  form_limits limits;
  limits.depth_max = 1;
  EXPECT_EQ(ok("a[b]=1", limits), (json{{"a", {{"b", "1"}}}}));
  fail("a[b][c]=1", limits);
  fail("a[0][]=1", limits);
}

TEST(form_decode, rejects_long_keys_and_values) {
  auto err = fail(std::string(257, 'k') + "=v");
  EXPECT_TRUE(contains(err.message, "too long")) << err.message;
  EXPECT_EQ(err.param.size(), 256u);
  // The limit applies to the decoded key: 768 bytes encode 256.
  std::string encoded;
  for (int i = 0; i < 256; ++i) {
    encoded += "%6B";
  }
  EXPECT_EQ(ok(encoded + "=v").begin().key(), std::string(256, 'k'));
  fail(encoded + "%6B=v");
  err = fail("k=" + std::string(8193, 'v'));
  EXPECT_TRUE(contains(err.message, "too long")) << err.message;
  EXPECT_EQ(err.param, "k");
}

TEST(form_decode, rejects_too_large_indexes_and_too_long_appends) {
  auto err = fail("a[101]=1");
  EXPECT_TRUE(contains(err.message, "too large")) << err.message;
  EXPECT_EQ(err.param, "a[101]");
  fail("a[99999999999999999999999999]=1");
  form_limits limits;
  limits.array_index_max = 2;
  EXPECT_EQ(ok("a[]=1&a[]=2&a[]=3", limits)["a"].size(), 3u);
  err = fail("a[]=1&a[]=2&a[]=3&a[]=4", limits);
  EXPECT_TRUE(contains(err.message, "Too many elements")) << err.message;
  EXPECT_EQ(err.param, "a[]");
  fail("a[3]=1", limits);
}

TEST(form_decode, rejects_invalid_utf8) {
  EXPECT_EQ(fail("a=%FF").param, "a");
  EXPECT_EQ(fail("a=%C3").param, "a");          // truncated
  EXPECT_EQ(fail("a=%C0%AF").param, "a");       // overlong
  EXPECT_EQ(fail("a=%ED%A0%80").param, "a");    // surrogate
  EXPECT_EQ(fail("a=%F4%90%80%80").param, "a"); // above U+10FFFF
  EXPECT_EQ(fail("%FF=1").param, "");
  EXPECT_EQ(ok("a=%F0%9F%92%B3")["a"], "\xf0\x9f\x92\xb3");
}

TEST(form_decode, rejects_nul_characters) {
  EXPECT_EQ(fail("description=a%00b").param, "description");
  EXPECT_EQ(fail("metadata[k]=%00").param, "metadata[k]");
  EXPECT_EQ(fail("a%00b=1").param, "");
  EXPECT_EQ(ok("a=%01")["a"], "\x01") << "other control characters are the "
                                          "parameter's own check";
}

TEST(form_decode, never_throws_on_garbage) {
  std::mt19937 rng(12345);
  const std::string alphabet = "ab0[]=&%+9F\xff";
  std::uniform_int_distribution<size_t> pick(0, alphabet.size() - 1);
  std::uniform_int_distribution<size_t> length(0, 40);
  for (int i = 0; i < 20'000; ++i) {
    std::string body;
    for (size_t n = length(rng); n > 0; --n) {
      body.push_back(alphabet[pick(rng)]);
    }
    decltype(decode_form(body)) result;
    ASSERT_NO_THROW(result = decode_form(body)) << body;
    if (auto* out = std::get_if<json>(&result)) {
      ASSERT_NO_THROW(out->dump()) << body;
    }
  }
}

// -- url components -----------------------------------------------------------

TEST(form_decode, url_decode_component_rules) {
  bool good = false;
  EXPECT_EQ(url_decode_component("a+b%20c", &good), "a b c");
  EXPECT_TRUE(good);
  EXPECT_EQ(url_decode_component("%41%5a%5A", &good), "AZZ");
  EXPECT_TRUE(good);
  EXPECT_EQ(url_decode_component("", &good), "");
  EXPECT_TRUE(good);
  EXPECT_EQ(url_decode_component("%2B", &good), "+");
  EXPECT_TRUE(good);
  for (auto bad : {"%", "%4", "%G1", "a%", "%%", "%-1"}) {
    good = true;
    EXPECT_EQ(url_decode_component(bad, &good), "") << bad;
    EXPECT_FALSE(good) << bad;
  }
  EXPECT_EQ(url_decode_component("x+y", nullptr), "x y");
  EXPECT_EQ(url_decode_component("%", nullptr), "");
}

TEST(form_decode, url_encode_component_rules) {
  EXPECT_EQ(url_encode_component("AZaz09-._~"), "AZaz09-._~");
  EXPECT_EQ(url_encode_component("a b"), "a%20b");
  EXPECT_EQ(url_encode_component("&=+%[]"), "%26%3D%2B%25%5B%5D");
  EXPECT_EQ(url_encode_component("\xe2\x82\xac"), "%E2%82%AC");
  std::string all;
  for (int i = 0; i < 256; ++i) {
    all.push_back(static_cast<char>(i));
  }
  bool good = false;
  EXPECT_EQ(url_decode_component(url_encode_component(all), &good), all);
  EXPECT_TRUE(good);
}

namespace {

/// Flattens JSON into a form body the way Stripe's client libraries do.
void encode_json(const json& value, const std::string& key, std::string& body) {
  if (value.is_object()) {
    for (const auto& [name, child] : value.items()) {
      encode_json(child, key.empty() ? name : key + "[" + name + "]", body);
    }
  } else if (value.is_array()) {
    for (size_t i = 0; i < value.size(); ++i) {
      encode_json(value[i], key + "[" + std::to_string(i) + "]", body);
    }
  } else {
    if (!body.empty()) {
      body += '&';
    }
    body += url_encode_component(key) + "=" +
            url_encode_component(value.get<std::string>());
  }
}

} // namespace

TEST(form_decode, round_trips_through_url_encode_component) {
  auto original = json::parse(R"({
    "amount": "2000",
    "currency": "eur",
    "description": "Tea & cake = 20 % off + tip? [yes] \u20ac\n",
    "metadata": {"order id": "7", "a&b=c": "d+e", "empty": ""},
    "line_items": [
      {"price_data": {"currency": "eur", "unit_amount": "2000",
                      "product_data": {"name": "Caf\u00e9 au lait"}},
       "quantity": "1"},
      {"price": "price_123", "quantity": "2"}
    ],
    "expand": ["payment_intent", "customer"],
    "payment_method_types": ["card"]
  })");
  std::string body;
  encode_json(original, "", body);
  EXPECT_EQ(ok(body), original) << body;
}
