#include "adapters/redis/job_codec.hpp"

#include <msgpack.hpp>

#include <sstream>

namespace psp::redis {

namespace {

// A fixed-order array led by a version tag. A new field means a new version
// so that entries written by an older node still decode. Version 1: charges
// only; version 2 adds the op, the network reference and the held amount.
constexpr int job_version_charge_only = 1;
constexpr int job_version = 2;

using job_tuple_v1 = std::tuple<int, std::string, std::string, std::string,
                                std::string, int64_t, std::string, int32_t,
                                int64_t, std::string>;
using job_tuple = std::tuple<int, std::string, std::string, std::string,
                             std::string, int64_t, std::string, int32_t,
                             int64_t, std::string, uint8_t, std::string,
                             int64_t>;

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

} // namespace

std::string encode_job(const payment_job& job) {
  job_tuple t{job_version,      job.intent_id,   job.attempt_id,
              job.merchant_id,  job.session_id,  job.amount_minor,
              job.currency,     job.fee_bps,     job.fee_fixed_minor,
              job.sealed_card,  static_cast<uint8_t>(job.op),
              job.network_ref,  job.held_minor};
  std::stringstream buf;
  msgpack::pack(buf, t);
  return buf.str();
}

std::optional<payment_job> decode_job(std::string_view bytes) {
  try {
    auto handle = msgpack::unpack(bytes.data(), bytes.size());
    auto& obj = handle.get();
    if (obj.type != msgpack::type::ARRAY || obj.via.array.size == 0) {
      return std::nullopt;
    }
    auto version = obj.via.array.ptr[0].as<int>();
    if (version == job_version_charge_only) {
      return common_fields(obj.as<job_tuple_v1>());
    }
    if (version != job_version) {
      return std::nullopt;
    }
    auto t = obj.as<job_tuple>();
    auto op = std::get<10>(t);
    if (op > static_cast<uint8_t>(payment_op::refund)) {
      return std::nullopt;
    }
    auto job = common_fields(t);
    job.op = static_cast<payment_op>(op);
    job.network_ref = std::get<11>(t);
    job.held_minor = std::get<12>(t);
    return job;
  } catch (const std::exception&) {
    return std::nullopt;
  }
}

} // namespace psp::redis
