#include "adapters/redis/job_codec.hpp"

#include <msgpack.hpp>

#include <sstream>

namespace psp::redis {

namespace {

// Version 1 layout: a fixed-order array. A new field means a new version tag
// so that entries written by an older node still decode.
constexpr int job_version = 1;

using job_tuple = std::tuple<int, std::string, std::string, std::string,
                             std::string, int64_t, std::string, int32_t,
                             int64_t, std::string>;

} // namespace

std::string encode_job(const payment_job& job) {
  job_tuple t{job_version,      job.intent_id,   job.attempt_id,
              job.merchant_id,  job.session_id,  job.amount_minor,
              job.currency,     job.fee_bps,     job.fee_fixed_minor,
              job.sealed_card};
  std::stringstream buf;
  msgpack::pack(buf, t);
  return buf.str();
}

std::optional<payment_job> decode_job(std::string_view bytes) {
  try {
    auto handle = msgpack::unpack(bytes.data(), bytes.size());
    auto t = handle.get().as<job_tuple>();
    if (std::get<0>(t) != job_version) {
      return std::nullopt;
    }
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
  } catch (const std::exception&) {
    return std::nullopt;
  }
}

} // namespace psp::redis
