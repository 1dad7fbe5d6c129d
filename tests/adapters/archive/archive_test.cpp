// Goal: the archive's pure parts keep a payment exactly and refuse what they
// cannot read. pack/unpack give back every key, field order and byte
// (NULs, non-ASCII); a blob read with the wrong dictionary, a damaged blob
// or a blob of another format is refused (nullopt), never crashes; a
// merchant's dictionary makes its payments much smaller than MessagePack
// alone. locate() finds each archived key where the Lua side looks (the
// attempt's suffix, or the SHA-1 pointer computed here with OpenSSL), and
// the plan takes a payment only while it is a plain, settled paid charge.

#include "adapters/archive/answer_codec.hpp"
#include "adapters/archive/archive_codec.hpp"
#include "adapters/archive/archive_locator.hpp"
#include "adapters/archive/archive_plan.hpp"
#include "tests/support/archive_payments.hpp"

#include <gtest/gtest.h>
#include <openssl/sha.h>

#include <cstdint>
#include <iostream>
#include <string>
#include <vector>

namespace psp::test {
namespace {

using archive::stored_object;

bool same_objects(const std::vector<stored_object>& a,
                  const std::vector<stored_object>& b) {
  if (a.size() != b.size()) {
    return false;
  }
  for (size_t i = 0; i < a.size(); ++i) {
    if (a[i].key != b[i].key || a[i].fields != b[i].fields) {
      return false;
    }
  }
  return true;
}

void expect_same_objects(const std::vector<stored_object>& got,
                         const std::vector<stored_object>& want) {
  ASSERT_EQ(got.size(), want.size());
  for (size_t i = 0; i < want.size(); ++i) {
    EXPECT_EQ(got[i].key, want[i].key) << "object #" << i;
    // Field order too: a restore writes the hash back in this order.
    EXPECT_EQ(got[i].fields, want[i].fields) << "object " << want[i].key;
  }
}

archive::dictionary merchant_dictionary(uint64_t id) {
  // Two of the merchant's other payments, as the archiver samples them.
  return {id, archive::dictionary_bytes_for(
                {paid_payment(ids_for(100)), paid_payment(ids_for(101))})};
}

std::string sha1_hex(const std::string& text) {
  unsigned char digest[SHA_DIGEST_LENGTH];
  SHA1(reinterpret_cast<const unsigned char*>(text.data()), text.size(),
       digest);
  static const char* hex = "0123456789abcdef";
  std::string out;
  for (auto b : digest) {
    out += hex[b >> 4];
    out += hex[b & 0xf];
  }
  return out;
}

// ---- pack / unpack ---------------------------------------------------------

TEST(archive_codec, round_trip_keeps_keys_field_order_and_every_byte) {
  auto objects = paid_payment(ids_for(1));
  // Binary-safe: a NUL inside a value, UTF-8, a high byte, an empty value,
  // fields out of alphabetical order and an object without fields.
  objects[0].fields.emplace_back("metadata",
                                 std::string{"{\"note\":\"a\0b\"}", 14});
  objects[0].fields.emplace_back("description", "Café ☕ – naïve 日本");
  objects[0].fields.emplace_back("raw", std::string{"\xff\x00\x80", 3});
  objects[0].fields.emplace_back("empty", "");
  objects[0].fields.emplace_back("aaa_last", "z");
  objects.push_back({"charge:ch_nothing", {}});
  auto dict = merchant_dictionary(7);

  auto blob = archive::pack(objects, dict);
  ASSERT_FALSE(blob.empty());
  auto back = archive::unpack(blob, dict);
  ASSERT_TRUE(back);
  expect_same_objects(*back, objects);
  EXPECT_EQ((*back)[0].fields[20].second.size(), 14u); // the NUL survived
}

TEST(archive_codec, round_trip_without_a_merchants_payments_in_the_dictionary) {
  // A merchant's first dictionary may be the template alone.
  auto objects = paid_payment(ids_for(2));
  archive::dictionary dict{1, archive::dictionary_bytes_for({})};
  EXPECT_EQ(dict.bytes, archive::template_bytes());
  auto back = archive::unpack(archive::pack(objects, dict), dict);
  ASSERT_TRUE(back);
  expect_same_objects(*back, objects);
}

TEST(archive_codec, a_blob_names_the_dictionary_it_needs) {
  auto objects = paid_payment(ids_for(3));
  auto blob = archive::pack(objects, merchant_dictionary(5));
  ASSERT_FALSE(blob.empty());
  EXPECT_EQ(blob[0], '\x01'); // the format byte
  EXPECT_EQ(archive::dictionary_id_of(blob), 5u);
}

TEST(archive_codec, dictionary_ids_are_multi_byte_varints) {
  auto objects = paid_payment(ids_for(4));
  for (uint64_t id : {0ULL, 127ULL, 128ULL, 300ULL, 16384ULL,
                      0xFFFFFFFFFFFFFFFFULL}) {
    auto dict = merchant_dictionary(id);
    auto blob = archive::pack(objects, dict);
    ASSERT_FALSE(blob.empty()) << id;
    EXPECT_EQ(archive::dictionary_id_of(blob), id);
    auto back = archive::unpack(blob, dict);
    ASSERT_TRUE(back) << id;
    expect_same_objects(*back, objects);
  }
  // 300 = 0b10_0101100: low seven bits first with the continuation bit.
  EXPECT_EQ(archive::dictionary_id_of(std::string{"\x01\xac\x02", 3}), 300u);
  EXPECT_EQ(archive::dictionary_id_of(std::string{"\x01\x00", 2}), 0u);
}

TEST(archive_codec, a_header_that_is_not_ours_has_no_dictionary_id) {
  EXPECT_FALSE(archive::dictionary_id_of(""));
  EXPECT_FALSE(archive::dictionary_id_of(std::string{"\x01", 1}));
  // The varint never ends.
  EXPECT_FALSE(archive::dictionary_id_of(std::string{"\x01\xac\x82", 3}));
  EXPECT_FALSE(archive::dictionary_id_of(std::string(20, '\xff')));
  // Another format's byte.
  EXPECT_FALSE(archive::dictionary_id_of(std::string{"\x02\x05", 2}));
  EXPECT_FALSE(archive::dictionary_id_of("plain text"));
}

TEST(archive_codec, the_wrong_dictionary_id_is_refused) {
  auto objects = paid_payment(ids_for(5));
  auto dict = merchant_dictionary(7);
  auto blob = archive::pack(objects, dict);
  // Same bytes under another id: the blob asks for 7.
  EXPECT_FALSE(archive::unpack(blob, {8, dict.bytes}));
  EXPECT_FALSE(archive::unpack(blob, {0, dict.bytes}));
}

// A dictionary's bytes never change once stored (archive_codec.hpp), but
// another Redis (or a lost arc:dict:<n>) may hold other bytes under the same
// id: reading with them must not yield a payment that was never stored
// (the frame's checksum; it failed before pack() asked for one).
TEST(archive_codec, the_wrong_dictionary_bytes_are_refused) {
  auto objects = paid_payment(ids_for(6));
  auto dict = merchant_dictionary(9);
  auto blob = archive::pack(objects, dict);
  ASSERT_TRUE(archive::unpack(blob, dict));

  // Every dictionary here has id 9 (digest_of checks the bytes). Reading
  // exactly the original back would be harmless; anything else must be
  // refused.
  auto wrong_read = [&](const std::string& bytes) {
    auto got = archive::unpack(blob, {9, bytes});
    return got && !same_objects(*got, objects);
  };
  EXPECT_FALSE(wrong_read(archive::template_bytes())) << "the template";
  EXPECT_FALSE(wrong_read(archive::dictionary_bytes_for({paid_payment(
    ids_for(200, "acct_Other000000000000000000"))})))
    << "another merchant's payments";
  EXPECT_FALSE(wrong_read(std::string(dict.bytes.size(), 'x')))
    << "unrelated bytes";
  // The same bytes with one changed, at every place the frame may copy
  // from.
  size_t wrong_reads = 0;
  std::string first;
  for (size_t at = 0; at < dict.bytes.size(); ++at) {
    auto bytes = dict.bytes;
    bytes[at] ^= 0x20;
    if (wrong_read(bytes) && wrong_reads++ == 0) {
      first = "byte " + std::to_string(at);
    }
  }
  EXPECT_EQ(wrong_reads, 0u)
    << wrong_reads << " of " << dict.bytes.size()
    << " one-byte changes of the dictionary read as a different payment, "
       "first: "
    << first;
  // The right bytes still read afterwards (the cache follows the bytes).
  auto back = archive::unpack(blob, dict);
  ASSERT_TRUE(back);
  expect_same_objects(*back, objects);
}

TEST(archive_codec, a_truncated_blob_is_refused) {
  auto objects = paid_payment(ids_for(7));
  auto dict = merchant_dictionary(11);
  auto blob = archive::pack(objects, dict);
  for (size_t n = 0; n < blob.size(); ++n) {
    EXPECT_FALSE(archive::unpack(std::string_view{blob}.substr(0, n), dict))
      << "first " << n << " of " << blob.size() << " bytes";
  }
  // Bytes appended after the frame are not a blob of ours either.
  EXPECT_FALSE(archive::unpack(blob + "extra", dict));
}

// A blob damaged anywhere (a flipped bit in Redis, a bad restore from a
// backup) must be refused, not read as a slightly different payment: the
// frame's checksum, and unpack() using every byte of the MessagePack.
TEST(archive_codec, a_corrupted_blob_is_refused) {
  auto objects = paid_payment(ids_for(8));
  auto dict = merchant_dictionary(12);
  auto blob = archive::pack(objects, dict);
  size_t flips = 0;
  size_t read_as_another_payment = 0;
  std::string first;
  // From byte 2: a changed header is the wrong-dictionary or format case.
  for (size_t i = 2; i < blob.size(); ++i) {
    for (unsigned char mask : {0x01, 0x10, 0x80}) {
      auto bad = blob;
      bad[i] = static_cast<char>(static_cast<unsigned char>(bad[i]) ^ mask);
      ++flips;
      auto got = archive::unpack(bad, dict); // must not crash
      if (got && !same_objects(*got, objects)) {
        ++read_as_another_payment;
        if (first.empty()) {
          first = "byte " + std::to_string(i) + " ^ " + std::to_string(mask);
        }
      }
    }
  }
  EXPECT_EQ(read_as_another_payment, 0u)
    << read_as_another_payment << " of " << flips
    << " one-bit corruptions read as a different payment, first: " << first
    << " (blob of " << blob.size() << " bytes)";
}

TEST(archive_codec, a_blob_of_another_format_is_refused) {
  auto objects = paid_payment(ids_for(9));
  auto dict = merchant_dictionary(13);
  auto blob = archive::pack(objects, dict);
  for (char format : {'\x00', '\x02', '\x7f', '\xff'}) {
    auto other = blob;
    other[0] = format;
    EXPECT_FALSE(archive::unpack(other, dict)) << int(format);
    EXPECT_FALSE(archive::dictionary_id_of(other)) << int(format);
  }
  // The uncompressed form itself is not a blob.
  EXPECT_FALSE(archive::unpack(archive::serialize(objects), dict));
  EXPECT_FALSE(archive::unpack("", dict));
}

TEST(archive_codec, a_merchants_dictionary_makes_its_payments_small) {
  auto objects = paid_payment(ids_for(10), "4999");
  auto plain = archive::serialize(objects);
  auto with_merchant = archive::pack(objects, merchant_dictionary(14));
  auto with_template =
    archive::pack(objects, {15, archive::dictionary_bytes_for({})});
  std::cout << "[ sizes    ] serialized " << plain.size()
            << " B, packed with the template " << with_template.size()
            << " B, with the merchant's dictionary " << with_merchant.size()
            << " B\n";
  ASSERT_FALSE(with_merchant.empty());
  EXPECT_LT(with_merchant.size() * 100, plain.size() * 40);
  EXPECT_LT(with_template.size(), plain.size());
}

// ---- locate ----------------------------------------------------------------

const std::string suffix = "9Wa8ry6lPsKWQgVjmLrj3RPl";

TEST(archive_locator, attempt_event_and_transaction_keys_name_their_archive) {
  const std::string arc = "arc:" + suffix.substr(0, 12);
  for (auto key : {"pa:pa_" + suffix, "evt:evt_" + suffix + "S",
                   "evt:evt_" + suffix + "C", "txn:txn_" + suffix}) {
    auto where = archive::locate(key);
    ASSERT_TRUE(where) << key;
    EXPECT_EQ(where->archive_key, arc) << key;
    EXPECT_TRUE(where->pointers.empty()) << key;
  }
  EXPECT_EQ(archive::archive_id_of("pa_" + suffix), suffix.substr(0, 12));
  EXPECT_EQ(archive::archive_key("abc"), "arc:abc");
}

TEST(archive_locator, a_refunds_keys_name_the_refunds_own_archive) {
  // A refund is archived apart from its payment, under its own random part.
  const std::string arc = "arc:" + suffix.substr(0, 12);
  for (auto key : {"re:re_" + suffix, "pa:re_" + suffix,
                   "evt:evt_" + suffix + "N", "txn:txn_" + suffix}) {
    auto where = archive::locate(key);
    ASSERT_TRUE(where) << key;
    EXPECT_EQ(where->archive_key, arc) << key;
    EXPECT_TRUE(where->pointers.empty()) << key;
  }
  EXPECT_FALSE(archive::locate("re:re_12345678901")); // 11 chars
}

TEST(archive_locator, intent_session_and_charge_keys_go_through_a_pointer) {
  for (auto [prefix, id] : std::vector<std::pair<std::string, std::string>>{
         {"pi", "pi_zyrVunL1NPH8yHMdxQ4g1ApZ"},
         {"cs", "cs_test_Cqd1XopzhydY2t38bPZkFlZm"},
         {"charge", "ch_cbee03478165bce34109c68d"},
         {"pi", "x"}}) {
    auto where = archive::locate(prefix + ":" + id);
    ASSERT_TRUE(where) << prefix << ":" << id;
    auto digest = sha1_hex(id); // of the id, not of the key
    EXPECT_EQ(where->archive_key, "");
    // One place a level: 4,096 buckets, then 16 times as many at each.
    ASSERT_EQ(where->pointers.size(), 4u);
    for (size_t level = 1; level <= 4; ++level) {
      auto& p = where->pointers[level - 1];
      EXPECT_EQ(p.bucket, "arx:" + digest.substr(0, 2 + level)) << level;
      EXPECT_EQ(p.field, digest.substr(2 + level, 16)) << level;
    }
  }
}

TEST(archive_locator, other_keys_are_never_archived) {
  for (const auto& key : std::vector<std::string>{
         "we:we_nRP31HOGhWe0nNOiRKvXiXgZ", "idem:acct_1:k",
         "merchant:acct_1", "arc:" + suffix.substr(0, 12), "arx:abc",
         "apikey:00ff", "webhooks:due", "pi", "pi:", "", ":pi_x",
         "PA:pa_" + suffix}) {
    EXPECT_FALSE(archive::locate(key)) << "'" << key << "'";
  }
}

TEST(archive_locator, ids_too_short_for_an_archive_id_are_not_located) {
  EXPECT_FALSE(archive::locate("pa:pa_12345678901"));   // 11 chars
  EXPECT_FALSE(archive::locate("evt:evt_1234567890S")); // 11 with the tag
  EXPECT_FALSE(archive::locate("txn:txn_"));
  EXPECT_EQ(archive::archive_id_of("pa_12345678901"), "");
  // Exactly twelve is enough.
  auto twelve = archive::locate("pa:pa_123456789012");
  ASSERT_TRUE(twelve);
  EXPECT_EQ(twelve->archive_key, "arc:123456789012");
}

// ---- payment_keys ----------------------------------------------------------

archive::intent_refs refs_of(const payment_ids& p,
                             const std::string& status = "succeeded") {
  return {status, p.attempt(), p.session, p.charge, "automatic"};
}

TEST(archive_plan, a_paid_checkout_has_seven_objects_intent_first) {
  auto p = ids_for(20);
  auto keys = archive::payment_keys(p.intent, refs_of(p));
  ASSERT_TRUE(keys);
  EXPECT_EQ(*keys, (std::vector<std::string>{
                     "pi:" + p.intent, "pa:" + p.attempt(), "cs:" + p.session,
                     "evt:evt_" + p.suffix + "S", "evt:evt_" + p.suffix + "C",
                     "txn:txn_" + p.suffix, "charge:" + p.charge}));
  // The builder above follows the same order.
  std::vector<std::string> built;
  for (auto& o : paid_payment(p)) {
    built.push_back(o.key);
  }
  EXPECT_EQ(built, *keys);
}

TEST(archive_plan, an_api_intent_has_no_session_object) {
  auto p = ids_for(21);
  p.session.clear();
  auto keys = archive::payment_keys(p.intent, refs_of(p));
  ASSERT_TRUE(keys);
  EXPECT_EQ(*keys, (std::vector<std::string>{
                     "pi:" + p.intent, "pa:" + p.attempt(),
                     "evt:evt_" + p.suffix + "S", "evt:evt_" + p.suffix + "C",
                     "txn:txn_" + p.suffix, "charge:" + p.charge}));
}

TEST(archive_plan, only_a_paid_charge_has_keys_to_take) {
  auto p = ids_for(22);
  for (auto status : {"requires_payment_method", "requires_confirmation",
                      "processing", "requires_capture", "canceled", ""}) {
    EXPECT_FALSE(archive::payment_keys(p.intent, refs_of(p, status)))
      << status;
  }
  auto no_charge = refs_of(p);
  no_charge.latest_charge.clear();
  EXPECT_FALSE(archive::payment_keys(p.intent, no_charge));
  auto short_attempt = refs_of(p);
  short_attempt.attempt = "pa_short";
  EXPECT_FALSE(archive::payment_keys(p.intent, short_attempt));
  auto not_an_attempt = refs_of(p);
  not_an_attempt.attempt = "re_" + p.suffix;
  EXPECT_FALSE(archive::payment_keys(p.intent, not_an_attempt));
  auto no_attempt = refs_of(p);
  no_attempt.attempt.clear();
  EXPECT_FALSE(archive::payment_keys(p.intent, no_attempt));
}

// ---- judge -----------------------------------------------------------------

/// Sets a field (appended when the object lacks it).
void set_field(stored_object& o, const std::string& field,
               const std::string& value) {
  for (auto& [f, v] : o.fields) {
    if (f == field) {
      v = value;
      return;
    }
  }
  o.fields.emplace_back(field, value);
}

class archive_judge : public ::testing::Test {
protected:
  payment_ids p = ids_for(30);
  std::vector<std::string> keys =
    *archive::payment_keys(p.intent, refs_of(p));
  std::vector<stored_object> objects = paid_payment(p);

  stored_object& object(const std::string& key) {
    for (auto& o : objects) {
      if (o.key == key) {
        return o;
      }
    }
    ADD_FAILURE() << "no object " << key;
    return objects[0];
  }
  stored_object& intent() { return object("pi:" + p.intent); }
  stored_object& attempt() { return object("pa:" + p.attempt()); }

  static void set(stored_object& o, const std::string& field,
                  const std::string& value) {
    set_field(o, field, value);
  }

  archive::readiness verdict() {
    return archive::judge(p.intent, keys, objects);
  }
};

TEST_F(archive_judge, a_clean_paid_charge_is_ready) {
  EXPECT_EQ(verdict(), archive::readiness::ready);
}

TEST_F(archive_judge, zero_refunds_and_final_deliveries_are_still_ready) {
  set(intent(), "amount_refunded", "0");
  set(intent(), "refund_pending", "0");
  set(object("evt:evt_" + p.suffix + "S"), "wh:we_dead",
      "dead|8|1796038999|HTTP 500");
  set(object("evt:evt_" + p.suffix + "C"), "wh:we_off", "dropped|0||");
  EXPECT_EQ(verdict(), archive::readiness::ready);
}

TEST_F(archive_judge, missing_events_and_transaction_are_optional) {
  for (auto& o : objects) {
    if (o.key.rfind("evt:", 0) == 0 || o.key.rfind("txn:", 0) == 0) {
      o.fields.clear();
    }
  }
  EXPECT_EQ(verdict(), archive::readiness::ready);
}

TEST_F(archive_judge, a_pending_delivery_means_later) {
  set(object("evt:evt_" + p.suffix + "C"), "wh:we_slow", "pending|3||timeout");
  EXPECT_EQ(verdict(), archive::readiness::later);
}

TEST_F(archive_judge, pending_deliveries_are_named_as_webhooks_due_names_them) {
  EXPECT_TRUE(archive::pending_deliveries(objects).empty());
  set(object("evt:evt_" + p.suffix + "S"), "wh:we_slow", "pending|3||timeout");
  set(object("evt:evt_" + p.suffix + "C"), "wh:we_dead", "dead|8|1796038999|");
  EXPECT_EQ(archive::pending_deliveries(objects),
            std::vector<std::string>{"evt_" + p.suffix + "S:we_slow"});
}

TEST_F(archive_judge, a_refunded_payment_is_ready_a_refunding_one_never) {
  // Its refunds are archived apart; the payment only waits for none to be
  // pending (the last one's commit step queues it again).
  set(intent(), "amount_refunded", "2500");
  set(intent(), "refund_pending", "0");
  EXPECT_EQ(verdict(), archive::readiness::ready);
  set(object("evt:evt_" + p.suffix + "S"), "wh:we_slow", "pending|0||");
  EXPECT_EQ(verdict(), archive::readiness::later);
  objects = paid_payment(p);
  set(intent(), "amount_refunded", "1000");
  set(intent(), "refund_pending", "100");
  EXPECT_EQ(verdict(), archive::readiness::never);
}

TEST_F(archive_judge, an_op_in_flight_is_never_a_finished_one_is_fine) {
  set(intent(), "pending_op", "cap_" + p.suffix);
  EXPECT_EQ(verdict(), archive::readiness::never);
  // A finished op leaves it empty.
  set(intent(), "pending_op", "");
  EXPECT_EQ(verdict(), archive::readiness::ready);
  // Manual capture named in an intent read as automatic: other keys.
  objects = paid_payment(p);
  set(intent(), "capture_method", "manual");
  EXPECT_EQ(verdict(), archive::readiness::never);
}

/// `p` paid by manual capture: authorised (A, C under the authorisation),
/// then captured by an op of its own (its S event and balance transaction
/// are the op's, so absent here), in payment_keys() order.
std::vector<stored_object> captured_manually(const payment_ids& p,
                                             const std::string& status) {
  auto objects = paid_payment(p);
  set_field(objects[0], "capture_method", "manual");
  set_field(objects[0], "status", status);
  set_field(objects[0], "pending_op", "");
  set_field(objects[1], "kind", "authorize");
  objects[3].fields.clear(); // S
  objects[5].fields.clear(); // txn
  objects.push_back({"evt:evt_" + p.suffix + "A",
                     {{"type", "payment_intent.amount_capturable_updated"},
                      {"created", "1796038564"}, {"merchant", p.merchant},
                      {"object", "payment_intent"},
                      {"snapshot", R"(["id",")" + p.intent + R"("])"}}});
  return objects;
}

TEST(archive_plan, a_manual_capture_adds_its_authorisation_event) {
  auto p = ids_for(31);
  auto refs = refs_of(p);
  refs.capture_method = "manual";
  auto keys = archive::payment_keys(p.intent, refs);
  ASSERT_TRUE(keys);
  ASSERT_EQ(keys->size(), 8u);
  EXPECT_EQ(keys->back(), "evt:evt_" + p.suffix + "A");
  // Voided (or gone at the network) is finished too, for manual capture
  // only; authorised and not yet captured is not.
  refs.status = "canceled";
  EXPECT_TRUE(archive::payment_keys(p.intent, refs));
  refs.status = "requires_capture";
  EXPECT_FALSE(archive::payment_keys(p.intent, refs));
  EXPECT_FALSE(archive::payment_keys(p.intent, refs_of(p, "canceled")));
}

TEST(archive_plan, a_captured_or_voided_manual_payment_is_ready) {
  auto p = ids_for(32);
  auto refs = refs_of(p);
  refs.capture_method = "manual";
  for (auto status : {"succeeded", "canceled"}) {
    refs.status = status;
    auto keys = *archive::payment_keys(p.intent, refs);
    auto objects = captured_manually(p, status);
    EXPECT_EQ(archive::judge(p.intent, keys, objects),
              archive::readiness::ready)
      << status;
    // An authorisation that is a charge attempt is not this payment's.
    set_field(objects[1], "kind", "charge");
    EXPECT_EQ(archive::judge(p.intent, keys, objects),
              archive::readiness::never)
      << status;
  }
}

TEST_F(archive_judge, an_attempt_that_is_not_a_finished_charge_is_never) {
  set(attempt(), "status", "failed");
  EXPECT_EQ(verdict(), archive::readiness::never);
  objects = paid_payment(p);
  set(attempt(), "kind", "authorize");
  EXPECT_EQ(verdict(), archive::readiness::never);
  objects = paid_payment(p);
  // Still carrying its job: the commit step has not finished with it.
  set(attempt(), "job", std::string{"\x93\x03\x00", 3});
  EXPECT_EQ(verdict(), archive::readiness::never);
  objects = paid_payment(p);
  attempt().fields.clear();
  EXPECT_EQ(verdict(), archive::readiness::never);
}

TEST_F(archive_judge, a_missing_session_or_charge_index_is_never) {
  object("cs:" + p.session).fields.clear();
  EXPECT_EQ(verdict(), archive::readiness::never);
  objects = paid_payment(p);
  object("charge:" + p.charge).fields.clear();
  EXPECT_EQ(verdict(), archive::readiness::never);
}

TEST_F(archive_judge, an_intent_that_names_other_objects_is_never) {
  // Read after a change the keys were computed before.
  set(intent(), "latest_charge", "ch_other");
  EXPECT_EQ(verdict(), archive::readiness::never);
  objects = paid_payment(p);
  set(intent(), "attempt", "pa_" + token(999, 24));
  EXPECT_EQ(verdict(), archive::readiness::never);
  objects = paid_payment(p);
  set(intent(), "session", "cs_test_other");
  EXPECT_EQ(verdict(), archive::readiness::never);
  objects = paid_payment(p);
  set(intent(), "status", "processing");
  EXPECT_EQ(verdict(), archive::readiness::never);
  objects = paid_payment(p);
  intent().fields.clear(); // the intent is gone
  EXPECT_EQ(verdict(), archive::readiness::never);
}

TEST_F(archive_judge, objects_that_do_not_match_the_keys_are_never) {
  objects.pop_back();
  EXPECT_EQ(verdict(), archive::readiness::never);
  EXPECT_EQ(archive::judge(p.intent, {}, {}), archive::readiness::never);
  // The keys of another intent.
  auto other = ids_for(31);
  EXPECT_EQ(archive::judge(other.intent, keys, paid_payment(p)),
            archive::readiness::never);
}

// ---- refunds ---------------------------------------------------------------

TEST(archive_plan, a_refund_has_six_objects_named_by_its_random_part) {
  auto keys = archive::refund_keys("re_" + suffix);
  ASSERT_TRUE(keys);
  EXPECT_EQ(*keys,
            (std::vector<std::string>{
              "re:re_" + suffix, "pa:re_" + suffix, "txn:txn_" + suffix,
              "evt:evt_" + suffix + "N", "evt:evt_" + suffix + "U",
              "evt:evt_" + suffix + "R"}));
  EXPECT_TRUE(archive::is_refund_id("re_" + suffix));
  EXPECT_FALSE(archive::is_refund_id("pi_" + suffix));
  for (auto bad : {"pi_" + suffix, "re_" + suffix.substr(0, 11),
                   "re_a_" + suffix, std::string{"re_"}, std::string{}}) {
    EXPECT_FALSE(archive::refund_keys(bad)) << bad;
  }
}

struct refund_judge : ::testing::Test {
  payment_ids p = ids_for(40);
  std::string refund_id = "re_" + suffix;
  std::vector<std::string> keys = *archive::refund_keys(refund_id);
  std::vector<stored_object> objects = finished_refund(p, suffix);

  archive::readiness verdict() {
    return archive::judge_refund(refund_id, keys, objects);
  }
  static void set(stored_object& o, const std::string& field,
                  const std::string& value) {
    set_field(o, field, value);
  }
};

TEST_F(refund_judge, a_succeeded_or_failed_refund_is_ready) {
  EXPECT_EQ(verdict(), archive::readiness::ready);
  objects = finished_refund(p, suffix, "1000", "failed");
  EXPECT_EQ(verdict(), archive::readiness::ready);
}

TEST_F(refund_judge, a_pending_delivery_means_later) {
  set(objects[4], "wh:we_slow", "pending|2||HTTP 503");
  EXPECT_EQ(verdict(), archive::readiness::later);
}

TEST_F(refund_judge, a_refund_not_finished_is_never) {
  set(objects[0], "status", "pending");
  EXPECT_EQ(verdict(), archive::readiness::never);
  objects = finished_refund(p, suffix);
  set(objects[1], "status", "pending");
  EXPECT_EQ(verdict(), archive::readiness::never);
  objects = finished_refund(p, suffix);
  set(objects[1], "job", std::string{"\x93\x05\x00", 3});
  EXPECT_EQ(verdict(), archive::readiness::never);
}

TEST_F(refund_judge, a_missing_refund_or_op_record_is_never) {
  objects[0].fields.clear();
  EXPECT_EQ(verdict(), archive::readiness::never);
  objects = finished_refund(p, suffix);
  objects[1].fields.clear();
  EXPECT_EQ(verdict(), archive::readiness::never);
}

TEST_F(refund_judge, objects_that_do_not_match_the_keys_are_never) {
  objects.pop_back();
  EXPECT_EQ(verdict(), archive::readiness::never);
  objects = finished_refund(p, suffix);
  std::swap(objects[2], objects[3]);
  EXPECT_EQ(verdict(), archive::readiness::never);
  EXPECT_EQ(archive::judge_refund("re_" + token(5, 24), keys,
                                  finished_refund(p, suffix)),
            archive::readiness::never);
}

// ---- expired sessions ------------------------------------------------------

TEST(archive_plan, an_expired_session_has_four_objects_its_event_names_it) {
  auto p = ids_for(50);
  auto random_part = p.session.substr(p.session.rfind('_') + 1);
  auto keys = archive::session_keys(p.session, p.intent);
  ASSERT_TRUE(keys);
  EXPECT_EQ(*keys, (std::vector<std::string>{
                     "cs:" + p.session, "evt:evt_" + random_part + "E",
                     "evt:evt_" + random_part + "X", "pi:" + p.intent}));
  // The second key names the archive, by the session's random part.
  EXPECT_EQ(archive::archive_id_of((*keys)[1]), random_part.substr(0, 12));
  EXPECT_TRUE(archive::is_session_id(p.session));
  EXPECT_FALSE(archive::is_session_id(p.intent));
  EXPECT_FALSE(archive::session_keys(p.session, ""));
  EXPECT_FALSE(archive::session_keys(p.intent, p.intent));
  EXPECT_FALSE(archive::session_keys("cs_test_" + token(1, 11), p.intent));
}

struct session_judge : ::testing::Test {
  payment_ids p = ids_for(51);
  std::vector<std::string> keys = *archive::session_keys(p.session, p.intent);
  std::vector<stored_object> objects = expired_session(p);

  archive::readiness verdict() {
    return archive::judge_session(p.session, keys, objects);
  }
};

TEST_F(session_judge, an_expired_session_never_tried_is_ready) {
  EXPECT_EQ(verdict(), archive::readiness::ready);
  // Expired with no endpoint to tell: no event deliveries at all.
  objects[1].fields.pop_back();
  EXPECT_EQ(verdict(), archive::readiness::ready);
}

TEST_F(session_judge, a_pending_delivery_means_later) {
  set_field(objects[1], "wh:" + p.endpoint, "pending|1||HTTP 503");
  EXPECT_EQ(verdict(), archive::readiness::later);
  objects = expired_session(p);
  set_field(objects[2], "wh:" + p.endpoint, "pending|1||HTTP 503");
  EXPECT_EQ(verdict(), archive::readiness::later);
}

TEST_F(session_judge, a_session_expired_before_its_intent_event_is_ready) {
  // Expired by an earlier release: no payment_intent.canceled to keep.
  objects[2].fields.clear();
  EXPECT_EQ(verdict(), archive::readiness::ready);
}

TEST_F(session_judge, an_open_or_paid_session_is_never) {
  set_field(objects[0], "status", "open");
  EXPECT_EQ(verdict(), archive::readiness::never);
  objects = expired_session(p);
  set_field(objects[0], "status", "complete");
  EXPECT_EQ(verdict(), archive::readiness::never);
  objects = expired_session(p);
  set_field(objects[3], "status", "requires_payment_method");
  EXPECT_EQ(verdict(), archive::readiness::never);
}

TEST_F(session_judge, a_session_that_saw_a_declined_card_is_ready_too) {
  // The declined attempt's records and event are archived apart.
  set_field(objects[3], "attempt", p.attempt());
  set_field(objects[3], "last_error_code", "card_declined");
  EXPECT_EQ(verdict(), archive::readiness::ready);
}

TEST_F(session_judge, objects_that_do_not_match_the_keys_are_never) {
  std::swap(objects[1], objects[2]);
  EXPECT_EQ(verdict(), archive::readiness::never);
  objects = expired_session(p);
  objects.pop_back();
  EXPECT_EQ(verdict(), archive::readiness::never);
  objects = expired_session(p);
  set_field(objects[0], "intent", ids_for(52).intent);
  EXPECT_EQ(verdict(), archive::readiness::never);
  objects = expired_session(p);
  objects[0].fields.erase(objects[0].fields.begin() + 1); // merchant
  EXPECT_EQ(verdict(), archive::readiness::never);
}

// ---- intents canceled before any charge -------------------------------------

TEST(archive_plan, an_intent_canceled_before_any_charge_is_two_objects) {
  auto p = ids_for(70);
  p.session.clear();
  auto part = p.intent.substr(3);
  archive::intent_refs refs{"canceled", "", "", "", "automatic"};
  auto keys = archive::canceled_intent_keys(p.intent, refs);
  ASSERT_TRUE(keys);
  EXPECT_EQ(*keys, (std::vector<std::string>{"pi:" + p.intent,
                                             "evt:evt_" + part + "X"}));
  std::vector<stored_object> objects{
    {"pi:" + p.intent,
     {{"id", p.intent}, {"merchant", p.merchant}, {"status", "canceled"},
      {"cancellation_reason", "requested_by_customer"}}},
    {"evt:evt_" + part + "X",
     {{"type", "payment_intent.canceled"}, {"merchant", p.merchant}}}};
  EXPECT_EQ(archive::judge(p.intent, *keys, objects),
            archive::readiness::ready);
  set_field(objects[1], "wh:" + p.endpoint, "pending|1||HTTP 503");
  EXPECT_EQ(archive::judge(p.intent, *keys, objects),
            archive::readiness::later);
  // A session's intent goes with its session; a held or paid one has a
  // charge; anything else is not canceled.
  for (auto other : {archive::intent_refs{"canceled", "", p.session.empty()
                                                             ? "cs_test_x"
                                                             : p.session,
                                          "", "automatic"},
                     archive::intent_refs{"canceled", "", "", "ch_1",
                                          "manual"},
                     archive::intent_refs{"requires_payment_method", "", "",
                                          "", "automatic"}}) {
    EXPECT_FALSE(archive::canceled_intent_keys(p.intent, other));
  }
  // Read as something else than canceled: never.
  objects = {{"pi:" + p.intent, {{"status", "requires_payment_method"}}},
             {"evt:evt_" + part + "X", {}}};
  EXPECT_EQ(archive::judge(p.intent, *keys, objects),
            archive::readiness::never);
}

// ---- ops: declined attempts, captures, voids --------------------------------

TEST(archive_plan, an_op_names_its_record_events_and_transaction_by_its_part) {
  for (auto prefix : {"pa_", "cap_", "void_"}) {
    auto keys = archive::op_keys(prefix + suffix);
    ASSERT_TRUE(keys) << prefix;
    EXPECT_EQ(*keys, (std::vector<std::string>{
                       "pa:" + (prefix + suffix), "evt:evt_" + suffix + "F",
                       "evt:evt_" + suffix + "S", "evt:evt_" + suffix + "X",
                       "txn:txn_" + suffix}));
    EXPECT_EQ(archive::archive_id_of((*keys)[1]), suffix.substr(0, 12));
    EXPECT_TRUE(archive::is_op_id(prefix + suffix));
  }
  EXPECT_FALSE(archive::is_op_id("pi_" + suffix));
  for (auto bad : {"re_" + suffix, "pa_" + suffix.substr(0, 11),
                   "pa_a_" + suffix, std::string{"pa_"}}) {
    EXPECT_FALSE(archive::op_keys(bad)) << bad;
  }
}

struct op_judge : ::testing::Test {
  payment_ids p = ids_for(60);
  std::string op_id = "pa_" + suffix;
  std::vector<std::string> keys = *archive::op_keys(op_id);
  std::vector<stored_object> objects = with_absent(declined_attempt(p, suffix));

  /// op_keys() order: the declined attempt's two objects, then the S, X
  /// and transaction it never wrote.
  std::vector<stored_object> with_absent(std::vector<stored_object> declined) {
    return {declined[0], declined[1], {"evt:evt_" + suffix + "S", {}},
            {"evt:evt_" + suffix + "X", {}}, {"txn:txn_" + suffix, {}}};
  }
  archive::readiness verdict() {
    return archive::judge_op(op_id, keys, objects);
  }
};

TEST_F(op_judge, a_declined_charge_or_authorisation_is_ready) {
  EXPECT_EQ(verdict(), archive::readiness::ready);
  set_field(objects[0], "kind", "authorize");
  EXPECT_EQ(verdict(), archive::readiness::ready);
  // Its merchant is named by the event (the op record has none).
  ASSERT_NE(archive::merchant_of(objects), nullptr);
  EXPECT_EQ(*archive::merchant_of(objects), p.merchant);
}

TEST_F(op_judge, a_finished_capture_or_void_is_ready_either_way) {
  op_id = "cap_" + suffix;
  keys = *archive::op_keys(op_id);
  objects[0].key = "pa:" + op_id;
  for (auto kind : {"capture", "void"}) {
    for (auto status : {"succeeded", "failed"}) {
      set_field(objects[0], "kind", kind);
      set_field(objects[0], "status", status);
      EXPECT_EQ(verdict(), archive::readiness::ready) << kind << status;
    }
  }
  set_field(objects[0], "status", "pending");
  EXPECT_EQ(verdict(), archive::readiness::never);
}

TEST_F(op_judge, a_pending_delivery_means_later) {
  set_field(objects[1], "wh:" + p.endpoint, "pending|1||HTTP 503");
  EXPECT_EQ(verdict(), archive::readiness::later);
}

TEST_F(op_judge, anything_but_a_finished_op_is_never) {
  for (auto status : {"pending", "succeeded", "superseded"}) {
    objects = with_absent(declined_attempt(p, suffix));
    set_field(objects[0], "status", status);
    EXPECT_EQ(verdict(), archive::readiness::never) << status;
  }
  objects = with_absent(declined_attempt(p, suffix));
  set_field(objects[0], "job", "sealed");
  EXPECT_EQ(verdict(), archive::readiness::never);
  objects = with_absent(declined_attempt(p, suffix));
  set_field(objects[0], "kind", "refund");
  EXPECT_EQ(verdict(), archive::readiness::never);
  objects = with_absent(declined_attempt(p, suffix));
  std::swap(objects[0], objects[1]);
  EXPECT_EQ(verdict(), archive::readiness::never);
  objects = with_absent(declined_attempt(p, suffix));
  objects[0].fields.clear();
  EXPECT_EQ(verdict(), archive::readiness::never);
}

// ---- stored Idempotency-Key answers ----------------------------------------

const std::string intent_answer =
  R"({"amount":4242,"amount_capturable":0,"amount_received":4242,)"
  R"("canceled_at":null,"cancellation_reason":null,"capture_method":)"
  R"("automatic","confirmation_method":"automatic","created":1796056951,)"
  R"("currency":"eur","description":null,"id":"pi_Q59uKJ4PuBaryJVmTXPkB4S5",)"
  R"("last_payment_error":null,"latest_charge":"ch_b86a0cd4fee591180f3e028d",)"
  R"("livemode":false,"metadata":{"order":"42"},"object":"payment_intent",)"
  R"("payment_method":"pm_iw5VS38vUxxO9CpcUbJuPfAw","payment_method_details":)"
  R"({"card":{"brand":"mastercard","last4":"4444"},"type":"card"},)"
  R"("payment_method_types":["card"],"receipt_email":"a@example.com",)"
  R"("status":"succeeded"})";

TEST(answer_codec, an_intent_answer_comes_back_byte_for_byte_and_smaller) {
  auto packed = archive::pack_answer(intent_answer);
  EXPECT_EQ(packed[0], '\0');
  EXPECT_LT(packed.size() * 2, intent_answer.size())
    << packed.size() << " of " << intent_answer.size();
  std::cout << "[ info ] intent answer " << intent_answer.size() << " B -> "
            << packed.size() << " B stored\n";
  auto back = archive::unpack_answer(packed);
  ASSERT_TRUE(back);
  EXPECT_EQ(*back, intent_answer);
  // Any bytes, not only JSON.
  std::string binary{"\x01\x00\xff", 3};
  binary += intent_answer + std::string(200, '\0');
  EXPECT_EQ(archive::unpack_answer(archive::pack_answer(binary)), binary);
}

TEST(answer_codec, short_and_earlier_answers_are_kept_as_they_are) {
  std::string short_answer = R"({"id":"cs_test_planted"})";
  EXPECT_EQ(archive::pack_answer(short_answer), short_answer);
  EXPECT_EQ(archive::unpack_answer(short_answer), short_answer);
  // Stored plain by an earlier release: read as is.
  EXPECT_EQ(archive::unpack_answer(intent_answer), intent_answer);
  EXPECT_EQ(archive::unpack_answer(""), "");
}

TEST(answer_codec, a_damaged_or_unknown_packed_answer_is_refused) {
  auto packed = archive::pack_answer(intent_answer);
  auto flipped = packed;
  flipped[packed.size() / 2] ^= 0x20;
  EXPECT_FALSE(archive::unpack_answer(flipped));
  EXPECT_FALSE(archive::unpack_answer(packed.substr(0, packed.size() - 3)));
  auto other_tag = packed;
  other_tag[2] = '9';
  EXPECT_FALSE(archive::unpack_answer(other_tag));
  EXPECT_FALSE(archive::unpack_answer(std::string(1, '\0')));
}

} // namespace
} // namespace psp::test
