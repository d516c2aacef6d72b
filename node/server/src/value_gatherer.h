#pragma once
// The read path's core: rebuild values from k members' shares. Asks just enough other voters for their
// share of each (key, mod_revision) to hold k+1 shares (and as many as the caller needs answers from),
// and the rest only when those fall short (an error, a missing share, no answer in time). Combines the
// first k valid shares and, with k+1 or more, checks that they lie on one polynomial, so a corrupted
// share is caught, reported (never its bytes) and left out. The leader's linearizable reads pass their term
// and read context, and each answer also counts as a leadership acknowledgement (see read_path.cc).

#include <chrono>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "etsecd/common/result.h"
#include "etsecd/server/member.h"
#include "etsecd/wire/share_fetch.h"

namespace etsecd::server {

struct GatherPlan {
  wire::ShareFetchRequest request;        // refs must be unique
  std::vector<wire::ShareFetchItem> own;  // this member's items for request.refs, same order
  // Items member `given_by` sent along with the request (a forwarded read), same order; may be empty.
  // That member is not among `peers`: its shares are in hand already.
  std::vector<wire::ShareFetchItem> given;
  uint64_t given_by = 0;
  std::vector<uint64_t> peers;  // the other voters, in the order to ask them
  unsigned threshold = 0;
  // Ask at least this many peers in the first wave (a linearizable read wants a majority's answers).
  size_t min_peers = 0;
  // When the first wave has not given k+1 shares of every value by then, ask the remaining peers too.
  // Zero asks everyone at once. Asking fewer members keeps a read's cost (each answer wakes several
  // threads on both ends) off the members it does not need.
  std::chrono::microseconds ask_rest_after{2000};
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

// Sends an encoded share fetch request to `peer`; `done` runs once with the encoded answer or an error,
// on any thread (a peer call, or a frame on the Raft stream, see MemberImpl::gather).
using ShareFetchCall = std::function<void(uint64_t peer, const std::string& body, Deadline deadline,
                                          std::function<void(Result<std::string>)> done)>;

// Errors: kNotEnoughShares (names how many valid shares were found for the worst value), kTimeout.
Result<ValueMap> gather_values(const ShareFetchCall& call, const GatherPlan& plan,
                               const GatherObserver& observer);

}  // namespace etsecd::server
