// A leader stopped on purpose (SIGTERM, a rolling upgrade) hands leadership to the most caught-up voter
// first, as etcd does: the voter campaigns at once (TimeoutNow), so clients see a short hand-over
// instead of waiting out an election timeout with no leader.

#include <chrono>
#include <future>
#include <thread>

#include "member_impl.h"

namespace etsecd::server {

void MemberImpl::hand_off_leadership() {
  if (removed_.load() || !published().is_leader || !loop_.joinable()) return;
  struct Choice {
    uint64_t to = 0;
    uint64_t match = 0;
  };
  auto choice = std::make_shared<Choice>();
  auto chosen = std::make_shared<std::promise<void>>();
  auto ready = chosen->get_future();
  post(event::Run{[this, choice, chosen] {
    if (node_->status().role == raft::Role::kLeader) {
      bool found = false;
      for (const auto& m : node_->committed_membership().members) {
        if (!m.voter || m.id == id_) continue;
        const uint64_t match = node_->match_of(m.id);
        if (!found || match > choice->match) {
          found = true;
          *choice = Choice{m.id, match};
        }
      }
      if (found) {
        if (auto st = node_->transfer_leadership(choice->to); !st) {
          logger().warn("stopping: cannot hand leadership over",
                        {{"to", choice->to}, {"error", st.error().code}});
          choice->to = 0;
        }
      }
    }
    chosen->set_value();
  }});
  // The core gives up a transfer after one election timeout; wait about that long, never forever.
  const auto started = std::chrono::steady_clock::now();
  const auto deadline = started + options_.election_timeout + 2 * options_.heartbeat_interval;
  if (ready.wait_until(deadline) != std::future_status::ready || choice->to == 0) return;
  logger().info("stopping: handing leadership to the most caught-up voter",
                {{"to", choice->to}, {"match", choice->match}});
  while (std::chrono::steady_clock::now() < deadline) {
    const Published pub = published();
    if (pub.leader != 0 && pub.leader != id_) {
      const auto ms =
          std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - started);
      logger().info("stopping: leadership handed over",
                    {{"leader", pub.leader}, {"ms", int64_t(ms.count())}});
      if (metrics_.count) metrics_.count("leadership_handoffs", 1);
      return;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  logger().warn("stopping: no new leader within an election timeout; stopping anyway", {{"to", choice->to}});
}

}  // namespace etsecd::server
