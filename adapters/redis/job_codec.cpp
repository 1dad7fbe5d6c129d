#include "adapters/redis/job_codec.hpp"

#include <msgpack.hpp>

#include <sstream>

namespace psp::redis {

namespace {

// Each layout is a fixed-order array led (for the terms) by a version tag. A
// new field means a new version so that entries written by an older node
// still decode. Version 1: charges only; version 2 adds the op, the network
// reference and the held amount; version 3 splits terms and step (header);
// version 4 adds the hosted-page attempt's ordinal to the terms.
constexpr int job_version_charge_only = 1;
constexpr int job_version_one_array = 2;
constexpr int job_version_split = 3;
constexpr int job_version = 4;

using job_tuple_v1 = std::tuple<int, std::string, std::string, std::string,
                                std::string, int64_t, std::string, int32_t,
                                int64_t, std::string>;
using job_tuple_v2 = std::tuple<int, std::string, std::string, std::string,
                                std::string, int64_t, std::string, int32_t,
                                int64_t, std::string, uint8_t, std::string,
                                int64_t>;
// version, intent, merchant, session, amount, currency, fee bps, fixed fee,
// op (version 3); version 4 adds the page ordinal. confirm_attempt_lua in
// scripts.cpp packs the same array.
using terms_tuple_v3 = std::tuple<int, std::string, std::string, std::string,
                                  int64_t, std::string, int32_t, int64_t,
                                  uint8_t>;
using terms_tuple = std::tuple<int, std::string, std::string, std::string,
                               int64_t, std::string, int32_t, int64_t,
                               uint8_t, uint32_t>;
// attempt/op id, sealed card, network reference, held amount.
using step_tuple = std::tuple<std::string, std::string, std::string, int64_t>;

template <class Tuple>
payment_job common_fields(const Tuple& t) {
  payment_job job;
  job.intent_id = std::get<1>(t);
  job.attempt_id = std::get<2>(t);
  job.merchant_id = std::get<3>(t);
  job.session_id = std::get<4>(t);
  job.amount_minor = std::get<5>(t);
  job.currency = std::get<6>(t);
  job.fee_bps = std::get<7>(t);
  job.fee_fixed_minor = std::get<8>(t);
  job.sealed_card = std::get<9>(t);
  return job;
}

std::optional<payment_op> checked_op(uint8_t op) {
  if (op > static_cast<uint8_t>(payment_op::refund)) {
    return std::nullopt;
  }
  return static_cast<payment_op>(op);
}

std::optional<payment_job> decode_v2(const msgpack::object& obj) {
  auto t = obj.as<job_tuple_v2>();
  auto op = checked_op(std::get<10>(t));
  if (!op) {
    return std::nullopt;
  }
  auto job = common_fields(t);
  job.op = *op;
  job.network_ref = std::get<11>(t);
  job.held_minor = std::get<12>(t);
  return job;
}

/// Versions 3 and 4: the terms (`Terms`), then the step.
template <class Terms>
std::optional<payment_job> decode_split(const msgpack::object& terms_obj,
                                        std::string_view bytes, size_t offset) {
  auto terms = terms_obj.as<Terms>();
  auto op = checked_op(std::get<8>(terms));
  if (!op || offset >= bytes.size()) {
    return std::nullopt;
  }
  auto step_handle = msgpack::unpack(bytes.data(), bytes.size(), offset);
  if (offset != bytes.size()) {
    return std::nullopt;
  }
  auto step = step_handle.get().as<step_tuple>();
  payment_job job;
  job.intent_id = std::get<1>(terms);
  job.merchant_id = std::get<2>(terms);
  job.session_id = std::get<3>(terms);
  job.amount_minor = std::get<4>(terms);
  job.currency = std::get<5>(terms);
  job.fee_bps = std::get<6>(terms);
  job.fee_fixed_minor = std::get<7>(terms);
  job.op = *op;
  job.attempt_id = std::get<0>(step);
  job.sealed_card = std::get<1>(step);
  job.network_ref = std::get<2>(step);
  job.held_minor = std::get<3>(step);
  if constexpr (std::tuple_size_v<Terms> > 9) {
    job.page_ordinal = std::get<9>(terms);
  }
  return job;
}

} // namespace

std::string encode_job_step(const payment_job& job) {
  step_tuple t{job.attempt_id, job.sealed_card, job.network_ref,
               job.held_minor};
  std::stringstream buf;
  msgpack::pack(buf, t);
  return buf.str();
}

std::string encode_job(const payment_job& job) {
  terms_tuple t{job_version,     job.intent_id,    job.merchant_id,
                job.session_id,  job.amount_minor, job.currency,
                job.fee_bps,     job.fee_fixed_minor,
                static_cast<uint8_t>(job.op), job.page_ordinal};
  std::stringstream buf;
  msgpack::pack(buf, t);
  return buf.str() + encode_job_step(job);
}

std::optional<payment_job> decode_job(std::string_view bytes) {
  try {
    size_t offset = 0;
    auto handle = msgpack::unpack(bytes.data(), bytes.size(), offset);
    auto& obj = handle.get();
    if (obj.type != msgpack::type::ARRAY || obj.via.array.size == 0) {
      return std::nullopt;
    }
    auto version = obj.via.array.ptr[0].as<int>();
    if (version == job_version) {
      return decode_split<terms_tuple>(obj, bytes, offset);
    }
    if (version == job_version_split) {
      return decode_split<terms_tuple_v3>(obj, bytes, offset);
    }
    if (offset != bytes.size()) {
      return std::nullopt;
    }
    if (version == job_version_charge_only) {
      return common_fields(obj.as<job_tuple_v1>());
    }
    if (version == job_version_one_array) {
      return decode_v2(obj);
    }
    return std::nullopt;
  } catch (const std::exception&) {
    return std::nullopt;
  }
}

} // namespace psp::redis
