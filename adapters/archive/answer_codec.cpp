#include "adapters/archive/answer_codec.hpp"

#include "adapters/archive/zstd_free.hpp"

#include <memory>

namespace psp::archive {

namespace {

// Format 1: "\0a1" + one zstd frame (with its checksum) made with
// template_v1 as a raw-content dictionary. Never change template_v1: the
// answers stored with it (for a day) must stay readable; a new template is
// a new format tag, and unpack keeps reading the old one.
constexpr std::string_view tag_v1{"\0a1", 3};

// Answers shaped as the API renders them (adapters/render/objects.cpp), the
// most common last (zstd finds recent bytes with the shortest offsets).
constexpr std::string_view template_v1 =
  R"({"error":{"code":"payment_intent_unexpected_state","message":"You cannot )"
  R"(capture this PaymentIntent because it has a status of succeeded.","param")"
  R"(:null,"type":"invalid_request_error"}})"
  R"({"amount":1000,"balance_transaction":"txn_","charge":"ch_","created":)"
  R"(1796000000,"currency":"usd","id":"re_","metadata":{},"object":"refund",)"
  R"("payment_intent":"pi_","reason":"requested_by_customer","status":)"
  R"("succeeded"})"
  R"({"amount":2500,"amount_capturable":0,"amount_received":0,"canceled_at":)"
  R"(null,"cancellation_reason":null,"capture_method":"manual",)"
  R"("confirmation_method":"automatic","created":1796000000,"currency":"usd",)"
  R"("description":null,"id":"pi_","last_payment_error":{"code":)"
  R"("card_declined","decline_code":"generic_decline","message":"Your card )"
  R"(was declined.","payment_method":{"card":{"brand":"visa","exp_month":12,)"
  R"("exp_year":2030,"last4":"0002"},"id":"pm_","object":"payment_method",)"
  R"("type":"card"},"type":"card_error"},"latest_charge":null,"livemode":false,)"
  R"("metadata":{},"object":"payment_intent","payment_method":null,)"
  R"("payment_method_details":null,"payment_method_types":["card"],)"
  R"("receipt_email":null,"status":"requires_payment_method"})"
  R"({"amount":2500,"amount_capturable":2500,"amount_received":0,)"
  R"("canceled_at":null,"cancellation_reason":null,"capture_method":)"
  R"("automatic","confirmation_method":"automatic","created":1796000000,)"
  R"("currency":"usd","description":null,"id":"pi_","last_payment_error":null,)"
  R"("latest_charge":"ch_","livemode":false,"metadata":{},"object":)"
  R"("payment_intent","payment_method":"pm_","payment_method_details":{"card":)"
  R"({"brand":"visa","last4":"4242"},"type":"card"},"payment_method_types":)"
  R"(["card"],"receipt_email":null,"status":"succeeded"})";

// Answers above this are read as damaged: no API answer comes near it.
constexpr size_t max_answer_bytes = 1 << 20;
// Below this, a frame's own overhead eats the gain.
constexpr size_t min_packed_bytes = 128;

const ZSTD_CDict* compress_dict() {
  static const std::unique_ptr<ZSTD_CDict, zstd_free> d{
    ZSTD_createCDict(template_v1.data(), template_v1.size(), 3)};
  return d.get();
}

const ZSTD_DDict* decompress_dict() {
  static const std::unique_ptr<ZSTD_DDict, zstd_free> d{
    ZSTD_createDDict(template_v1.data(), template_v1.size())};
  return d.get();
}

} // namespace

std::string pack_answer(const std::string& body) {
  if (body.size() < min_packed_bytes || compress_dict() == nullptr) {
    return body;
  }
  thread_local std::unique_ptr<ZSTD_CCtx, zstd_free> ctx{ZSTD_createCCtx()};
  std::string out{tag_v1};
  out.resize(tag_v1.size() + ZSTD_compressBound(body.size()));
  ZSTD_CCtx_reset(ctx.get(), ZSTD_reset_session_and_parameters);
  // A damaged answer must fail to unpack, not replay as other bytes.
  ZSTD_CCtx_setParameter(ctx.get(), ZSTD_c_checksumFlag, 1);
  ZSTD_CCtx_refCDict(ctx.get(), compress_dict());
  auto n = ZSTD_compress2(ctx.get(), out.data() + tag_v1.size(),
                          out.size() - tag_v1.size(), body.data(),
                          body.size());
  if (ZSTD_isError(n) || tag_v1.size() + n >= body.size()) {
    return body;
  }
  out.resize(tag_v1.size() + n);
  return out;
}

std::optional<std::string> unpack_answer(std::string_view stored) {
  if (stored.empty() || stored[0] != '\0') {
    return std::string{stored};
  }
  if (stored.substr(0, tag_v1.size()) != tag_v1 || decompress_dict() == nullptr) {
    return std::nullopt;
  }
  auto frame = stored.substr(tag_v1.size());
  auto size = ZSTD_getFrameContentSize(frame.data(), frame.size());
  if (size == ZSTD_CONTENTSIZE_ERROR || size == ZSTD_CONTENTSIZE_UNKNOWN
      || size > max_answer_bytes) {
    return std::nullopt;
  }
  thread_local std::unique_ptr<ZSTD_DCtx, zstd_free> ctx{ZSTD_createDCtx()};
  std::string out(size, '\0');
  auto n = ZSTD_decompress_usingDDict(ctx.get(), out.data(), out.size(),
                                      frame.data(), frame.size(),
                                      decompress_dict());
  if (ZSTD_isError(n) || n != size) {
    return std::nullopt;
  }
  return out;
}

} // namespace psp::archive
