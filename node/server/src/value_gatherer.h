#pragma once
// The read path's core: rebuild values from k members' shares. Asks every other voter at once for its
// share of each (key, mod_revision), combines the first k valid shares, and when k+1 or more arrive
// checks that they lie on one polynomial, so a corrupted share is caught, reported (never its bytes)
// and left out. The leader's linearizable reads pass their term and read context, and each answer also
// counts as a leadership acknowledgement (see member.cc).

#include <chrono>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "etsecd/common/result.h"
#include "etsecd/server/member.h"
#include "etsecd/transport/peer_transport.h"
#include "etsecd/wire/share_fetch.h"

namespace etsecd::server {

struct GatherPlan {
  wire::ShareFetchRequest request;        // refs must be unique
  std::vector<wire::ShareFetchItem> own;  // this member's items for request.refs, same order
  std::vector<uint64_t> peers;            // the other voters to ask
  unsigned threshold = 0;
  Deadline deadline;
  // How long to wait for a (k+1)-th share once k are in, to check consistency without stalling reads
  // on a slow member.
  std::chrono::microseconds verify_grace{2000};
};

struct GatherObserver {
  // Every decoded answer, for leadership acknowledgements. Runs on a transport thread; must not block.
  std::function<void(uint64_t from, const wire::ShareFetchResponse& response)> on_response;
  // A share that failed its checksum or disagreed with k others: which member, which revision.
  std::function<void(uint64_t member, int64_t mod_revision, const char* why)> on_corrupt;
};

// Errors: kNotEnoughShares (names how many valid shares were found for the worst value), kTimeout.
Result<ValueMap> gather_values(transport::PeerTransport& transport, const GatherPlan& plan,
                               const GatherObserver& observer);

}  // namespace etsecd::server
