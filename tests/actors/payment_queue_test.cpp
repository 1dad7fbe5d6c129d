// Goal: the payment queue reads only the stream partitions its node owns and
// follows the view: alone it reads all 12; in a cluster the 4 the view gives
// it; a job read just before a view change goes to its new owner's router; a
// departed member's entries are claimed in the partitions this node owns
// now, a fenced node claims its own back in all of them; jobs forwarded to a
// member that leaves are dispatched again at once. Deterministic: CAF's test
// coordinator, a fake stream that answers a read only when the test hands it
// a batch, and routers that record what they get.

#include "actors/ownership.hpp"
#include "actors/payment_queue.hpp"
#include "tests/actors/fakes.hpp"
#include "tests/support/actor_fixture.hpp"

#include <caf/response_promise.hpp>

#include <algorithm>

namespace psp::test {
namespace {

struct stream_log {
  std::vector<std::vector<uint32_t>> reads;  ///< partitions named per read
  std::vector<std::pair<std::string, std::vector<uint32_t>>> claims;
};

struct router_log {
  std::vector<std::string> intents;
};

using batch_atom = caf::atom_constant<caf::atom("batch")>;

/// The payment_stream port: a read waits until the test sends
/// `(batch_atom, jobs)`; a claim answers at once with nothing.
caf::actor spawn_fake_stream(caf::actor_system& sys,
                             std::shared_ptr<stream_log> log) {
  return sys.spawn([log](caf::event_based_actor* self) -> caf::behavior {
    auto pending = std::make_shared<std::optional<caf::response_promise>>();
    return {
      [=](read_atom, uint32_t, std::vector<uint32_t>& partitions) {
        log->reads.push_back(std::move(partitions));
        *pending = self->make_response_promise();
      },
      [=](claim_atom, std::string& consumer, uint32_t,
          std::vector<uint32_t>& partitions) {
        log->claims.emplace_back(std::move(consumer), std::move(partitions));
        return std::vector<payment_job>{};
      },
      [=](batch_atom, std::vector<payment_job>& jobs) {
        if (*pending) {
          (*pending)->deliver(std::move(jobs));
          pending->reset();
        }
      },
    };
  });
}

/// A payment router: records each job; answers true unless `silent` (an
/// owner that went away with the job).
caf::actor spawn_router(caf::actor_system& sys, std::shared_ptr<router_log> log,
                        bool silent) {
  return sys.spawn([=](caf::event_based_actor* self) -> caf::behavior {
    return {
      [=](process_atom, payment_job& job) -> caf::result<bool> {
        log->intents.push_back(job.intent_id);
        if (silent) {
          return self->make_response_promise<bool>(); // never delivered
        }
        return true;
      },
    };
  });
}

const std::vector<std::string> members{"node-0", "node-1", "node-2"};

/// An intent id whose partition `owner` owns under `view`.
std::string intent_owned_by(const std::string& owner,
                            const std::vector<std::string>& view) {
  auto owners = partition_owners(view);
  for (int i = 0;; ++i) {
    auto id = "pi_" + std::to_string(i);
    if (view[owners[payment_partition(id)]] == owner) {
      return id;
    }
  }
}

payment_job job_for(const std::string& intent_id) {
  auto job = sample_job("pa_" + intent_id);
  job.intent_id = intent_id;
  return job;
}

class payment_queue_test : public actor_fixture {
public:
  payment_queue_test() {
    stream = keep(spawn_fake_stream(sys, reads));
    local = keep(spawn_router(sys, local_jobs, false));
    node1 = keep(spawn_router(sys, node1_jobs, true));
    node2 = keep(spawn_router(sys, node2_jobs, false));
    queue = keep(spawn_payment_queue(
      sys, caf::actor_cast<payment_stream>(stream), local, limits));
    run();
  }

  void set_view(std::vector<std::string> ids) {
    cluster_view view;
    view.self_id = "node-0";
    for (auto& id : ids) {
      view.node_ids.push_back(id);
      view.routers.push_back(id == "node-0"   ? local
                             : id == "node-1" ? node1
                                              : node2);
    }
    caf::anon_send(queue, view_atom::value, std::move(view));
    run();
  }

  void deliver(std::vector<payment_job> jobs) {
    caf::anon_send(stream, batch_atom::value, std::move(jobs));
    run();
  }

  payment_queue_limits limits;
  std::shared_ptr<stream_log> reads = std::make_shared<stream_log>();
  std::shared_ptr<router_log> local_jobs = std::make_shared<router_log>();
  std::shared_ptr<router_log> node1_jobs = std::make_shared<router_log>();
  std::shared_ptr<router_log> node2_jobs = std::make_shared<router_log>();
  caf::actor stream;
  caf::actor local;
  caf::actor node1;
  caf::actor node2;
  caf::actor queue;
};

TEST_F(payment_queue_test, alone_it_reads_every_partition_and_keeps_the_jobs) {
  ASSERT_EQ(reads->reads.size(), 1u);
  EXPECT_EQ(reads->reads[0], all_partitions());
  deliver({job_for("pi_a"), job_for("pi_b")});
  EXPECT_EQ(local_jobs->intents, (std::vector<std::string>{"pi_a", "pi_b"}));
  ASSERT_EQ(reads->reads.size(), 2u) << "reads again after a batch";
  EXPECT_EQ(reads->reads[1], all_partitions());
}

TEST_F(payment_queue_test, in_a_cluster_it_reads_its_own_partitions) {
  set_view(members);
  deliver({}); // the read in flight still named all partitions
  ASSERT_EQ(reads->reads.size(), 2u);
  EXPECT_EQ(reads->reads[1], owned_partitions("node-0", members));
  EXPECT_EQ(reads->reads[1].size(), 4u);
}

TEST_F(payment_queue_test, a_job_read_before_a_view_change_goes_to_its_owner) {
  set_view(members);
  auto mine = intent_owned_by("node-0", members);
  auto theirs = intent_owned_by("node-2", members);
  deliver({job_for(mine), job_for(theirs)});
  EXPECT_EQ(local_jobs->intents, std::vector<std::string>{mine});
  EXPECT_EQ(node2_jobs->intents, std::vector<std::string>{theirs});
  EXPECT_TRUE(node1_jobs->intents.empty());
}

TEST_F(payment_queue_test, a_departed_members_entries_are_claimed_where_we_own) {
  set_view(members);
  auto forwarded = intent_owned_by("node-1", members);
  deliver({job_for(forwarded)});
  ASSERT_EQ(node1_jobs->intents, std::vector<std::string>{forwarded});
  const std::vector<std::string> rest{"node-0", "node-2"};
  set_view(rest);
  // The job node-1 never answered goes to its new owner at once.
  auto new_owner = partition_owners(rest)[payment_partition(forwarded)];
  auto& got = rest[new_owner] == "node-0" ? local_jobs : node2_jobs;
  EXPECT_EQ(got->intents, std::vector<std::string>{forwarded});
  EXPECT_TRUE(reads->claims.empty()) << "no claim before the delay";
  advance_ms(limits.take_over_delay_ms);
  ASSERT_EQ(reads->claims.size(), 1u);
  EXPECT_EQ(reads->claims[0].first, "node-1");
  EXPECT_EQ(reads->claims[0].second, owned_partitions("node-0", rest));
  EXPECT_EQ(reads->claims[0].second.size(), 6u);
}

TEST_F(payment_queue_test, a_fenced_node_claims_its_own_entries_everywhere) {
  set_view(members);
  caf::anon_send(queue, fence_atom::value);
  run();
  advance_ms(750);
  ASSERT_FALSE(reads->claims.empty());
  EXPECT_EQ(reads->claims[0].first, "node-0");
  EXPECT_EQ(reads->claims[0].second, all_partitions());
}

TEST_F(payment_queue_test, without_the_quorum_it_neither_reads_nor_claims) {
  set_view(members);
  caf::anon_send(queue, quorum_atom::value, false);
  run();
  deliver({}); // answers the read in flight
  EXPECT_EQ(reads->reads.size(), 1u) << "no new read";
  set_view({"node-0"});
  advance_ms(limits.take_over_delay_ms);
  EXPECT_TRUE(reads->claims.empty());
  caf::anon_send(queue, quorum_atom::value, true);
  run();
  ASSERT_EQ(reads->reads.size(), 2u);
  EXPECT_EQ(reads->reads[1], all_partitions()) << "alone in its view";
}

} // namespace
} // namespace psp::test
