#include "runtime/report_wiring.hpp"

namespace psp {

recon::run_settings report_settings(const node_config& cfg,
                                    const std::string& trigger) {
  recon::run_settings out;
  out.network.base_url = cfg.card_network_url;
  out.network.read_timeout_ms = cfg.card_network_timeout_ms;
  out.grace_s = cfg.reconcile_grace_s;
  out.trigger = trigger;
  out.node = cfg.node_id;
  return out;
}

scheduler_settings scheduler_settings_of(const node_config& cfg,
                                         const redis::endpoint& where) {
  scheduler_settings out;
  out.interval_s = cfg.reconcile_interval_s;
  out.recon = report_settings(cfg, "schedule");
  out.where = where;
  out.redis_timeout_ms = cfg.redis_timeout_ms;
  // Outlasts a settlement read and a few Redis round trips.
  out.lease_ms = cfg.card_network_timeout_ms + 10 * cfg.redis_timeout_ms
                 + 10'000;
  return out;
}

} // namespace psp
