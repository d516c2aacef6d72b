#include "value_gatherer.h"

#include <algorithm>
#include <condition_variable>
#include <memory>
#include <mutex>

#include "etsecd/server/errors.h"
#include "etsecd/shamir/shamir.h"
#include "etsecd/shamir/share_codec.h"

namespace etsecd::server {
namespace {

struct Candidate {
  uint64_t member = 0;
  std::string encoded;
};

// Shared with the asynchronous callbacks, which may outlive gather_values() when a peer answers late.
struct Collection {
  std::mutex mu;
  std::condition_variable cv;
  std::vector<std::vector<Candidate>> per_ref;
  size_t answers = 0;
};

bool enough(const Collection& c, size_t want) {
  for (const auto& shares : c.per_ref) {
    if (shares.size() < want) return false;
  }
  return true;
}

std::span<const uint8_t> bytes_of(const std::string& s) {
  return {reinterpret_cast<const uint8_t*>(s.data()), s.size()};
}

// Decodes candidates, drops bad ones (reporting them) and rebuilds the value. `valid_count` gets the
// number of shares that decoded.
Result<std::string> rebuild(const std::vector<Candidate>& candidates, unsigned k, int64_t mod_revision,
                            const GatherObserver& observer, size_t& valid_count) {
  std::vector<shamir::ShareView> views;
  std::vector<uint64_t> owners;
  for (const auto& c : candidates) {
    auto d = shamir::decode_share(bytes_of(c.encoded));
    if (!d.ok() || d->k != k) {
      if (observer.on_corrupt)
        observer.on_corrupt(c.member, mod_revision, d.ok() ? "threshold mismatch" : "checksum");
      continue;
    }
    views.push_back(d->share);
    owners.push_back(c.member);
  }
  valid_count = views.size();
  if (views.size() < k) return mvcc::make_error(kNotEnoughShares);
  if (views.size() > k) {
    auto ok = shamir::consistent(views, k);
    if (ok.ok() && !*ok) {
      // Find the share whose removal makes the rest agree: that one is corrupt. With a single bad share
      // among k+2 or more this is unambiguous; with exactly k+1 any removal "works", so we can only say
      // the set disagrees and must not trust any k of them blindly.
      if (views.size() == k + 1) {
        if (observer.on_corrupt) observer.on_corrupt(0, mod_revision, "k+1 shares disagree");
        return mvcc::make_error(kNotEnoughShares, "shares disagree and no majority identifies the bad one");
      }
      for (size_t drop = 0; drop < views.size(); ++drop) {
        std::vector<shamir::ShareView> rest;
        for (size_t i = 0; i < views.size(); ++i) {
          if (i != drop) rest.push_back(views[i]);
        }
        auto rest_ok = shamir::consistent(rest, k);
        if (rest_ok.ok() && *rest_ok) {
          if (observer.on_corrupt) observer.on_corrupt(owners[drop], mod_revision, "inconsistent share");
          auto v = shamir::combine(rest, k);
          if (!v) return v.error();
          return std::string(v->begin(), v->end());
        }
      }
      return mvcc::make_error(kNotEnoughShares, "more than one share disagrees");
    }
  }
  auto v = shamir::combine(views, k);
  if (!v) return v.error();
  return std::string(v->begin(), v->end());
}

}  // namespace

Result<ValueMap> gather_values(const ShareFetchCall& call, const GatherPlan& plan,
                               const GatherObserver& observer) {
  const auto& refs = plan.request.refs;
  ValueMap values;
  if (refs.empty()) return values;

  auto col = std::make_shared<Collection>();
  col->per_ref.resize(refs.size());
  for (size_t i = 0; i < refs.size(); ++i) {
    if (i < plan.own.size() && plan.own[i].status == wire::ShareStatus::kOk) {
      col->per_ref[i].push_back(Candidate{0, plan.own[i].share});
    }
    if (i < plan.given.size() && plan.given[i].status == wire::ShareStatus::kOk) {
      col->per_ref[i].push_back(Candidate{plan.given_by, plan.given[i].share});
    }
  }

  const std::string body = wire::encode_share_fetch_request(plan.request);
  const size_t ref_count = refs.size();
  auto ask = [&](size_t first, size_t last) {
    for (size_t p = first; p < last; ++p) {
      const uint64_t peer = plan.peers[p];
      call(peer, body, plan.deadline,
           [col, peer, ref_count, on_response = observer.on_response](Result<std::string> r) {
             std::optional<wire::ShareFetchResponse> resp;
             if (r.ok()) {
               auto d = wire::decode_share_fetch_response(bytes_of(*r));
               if (d.ok() && d->items.size() == ref_count) resp = std::move(*d);
             }
             if (resp && on_response) on_response(peer, *resp);
             std::lock_guard lock(col->mu);
             ++col->answers;
             if (resp) {
               for (size_t i = 0; i < ref_count; ++i) {
                 if (resp->items[i].status == wire::ShareStatus::kOk) {
                   col->per_ref[i].push_back(Candidate{peer, std::move(resp->items[i].share)});
                 }
               }
             }
             col->cv.notify_all();
           });
    }
  };

  const unsigned k = plan.threshold;
  auto complete = [&](const std::vector<wire::ShareFetchItem>& items) {
    return items.size() == refs.size() &&
           std::ranges::all_of(items, [](const auto& item) { return item.status == wire::ShareStatus::kOk; });
  };
  const size_t total_members = plan.peers.size() + 1 + (plan.given.empty() ? 0 : 1);
  const size_t verify_want = std::min<size_t>(k + 1, total_members);
  const size_t in_hand = (complete(plan.own) ? 1 : 0) + (complete(plan.given) ? 1 : 0);
  size_t asked = plan.peers.size();
  if (plan.ask_rest_after.count() > 0) {
    asked = std::min(plan.peers.size(),
                     std::max(plan.min_peers, verify_want > in_hand ? verify_want - in_hand : 0));
  }
  // call_async may answer on this thread (an unknown peer): never call it holding col->mu.
  ask(0, asked);
  auto ask_rest = [&] {
    if (asked == plan.peers.size()) return;
    const size_t first = asked;
    asked = plan.peers.size();
    ask(first, asked);
  };
  auto all_answered = [&] { return col->answers == asked; };

  bool short_of_shares = false;
  if (asked < plan.peers.size()) {
    std::unique_lock lock(col->mu);
    const auto until = std::min(plan.deadline, std::chrono::steady_clock::now() + plan.ask_rest_after);
    col->cv.wait_until(lock, until, [&] { return all_answered() || enough(*col, verify_want); });
    short_of_shares = !enough(*col, verify_want);
  }
  if (short_of_shares) ask_rest();

  std::vector<std::vector<Candidate>> collected;
  {
    std::unique_lock lock(col->mu);
    // Phase 1: wait for k shares of every value (or everyone's answer, or the deadline).
    col->cv.wait_until(lock, plan.deadline, [&] { return all_answered() || enough(*col, k); });
    // Phase 2: briefly wait for one more share of every value to verify consistency.
    if (!all_answered() && enough(*col, k) && !enough(*col, verify_want)) {
      auto until = std::min(plan.deadline, std::chrono::steady_clock::now() + plan.verify_grace);
      col->cv.wait_until(lock, until, [&] { return all_answered() || enough(*col, verify_want); });
    }
    collected = col->per_ref;
  }

  for (size_t i = 0; i < refs.size(); ++i) {
    size_t valid = 0;
    auto v = rebuild(collected[i], k, refs[i].mod_revision, observer, valid);
    if (!v && mvcc::is(v.error(), kNotEnoughShares) && valid > k) {
      // k+1 shares disagree: wait for every member's answer so the bad share can be singled out.
      ask_rest();
      std::unique_lock lock(col->mu);
      col->cv.wait_until(lock, plan.deadline, all_answered);
      auto more = col->per_ref[i];
      lock.unlock();
      v = rebuild(more, k, refs[i].mod_revision, observer, valid);
    }
    if (!v) {
      if (!mvcc::is(v.error(), kNotEnoughShares)) return v.error();
      if (std::chrono::steady_clock::now() >= plan.deadline) return mvcc::make_error(kTimeout);
      return mvcc::make_error(kNotEnoughShares, std::to_string(valid) + " valid shares of " +
                                                    std::to_string(k) + " needed for revision " +
                                                    std::to_string(refs[i].mod_revision));
    }
    values.emplace(refs[i], std::move(*v));
  }
  return values;
}

}  // namespace etsecd::server
