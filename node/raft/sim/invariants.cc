#include "sim/invariants.h"

#include <algorithm>
#include <set>

#include "etsecd/raft/conf_change.h"
#include "etsecd/raft/quorum.h"
#include "tests/reference_shamir.h"

namespace etsecd::raft::sim {
namespace {

std::string at(uint64_t index, uint64_t term) {
  return "entry (index " + std::to_string(index) + ", term " + std::to_string(term) + ")";
}

bool contains(const Bytes& haystack, const Bytes& needle) {
  if (needle.empty() || haystack.size() < needle.size()) return false;
  return std::search(haystack.begin(), haystack.end(), needle.begin(), needle.end()) != haystack.end();
}

}  // namespace

const Entry* held_entry(const SimMemberView& m, uint64_t index, uint64_t term, Entry& scratch) {
  if (index > m.storage->snapshot_meta().index) {
    auto t = m.storage->term(index);
    if (!t || *t != term) return nullptr;
    scratch = std::move(m.storage->entries(index, index + 1, 0)->front());
    return &scratch;
  }
  if (!m.state_machine) return nullptr;
  auto it = m.state_machine->find(index);
  return it != m.state_machine->end() && it->second.term == term ? &it->second : nullptr;
}

bool holds_entry(const SimMemberView& m, uint64_t index, uint64_t term) {
  if (index > m.storage->snapshot_meta().index) {
    auto t = m.storage->term(index);
    return t && *t == term;
  }
  if (!m.state_machine) return false;
  auto it = m.state_machine->find(index);
  return it != m.state_machine->end() && it->second.term == term;
}

InvariantChecker::InvariantChecker(const Membership& initial) : membership_(initial), k_(initial.threshold) {
  auto q = validate_membership(initial);
  w_ = q ? q->commit_quorum : 0;
}

bool InvariantChecker::is_voter(MemberId id) const {
  for (const Member& m : membership_.members)
    if (m.id == id) return m.voter;
  return false;
}

void InvariantChecker::record_proposal(ProposalId id, const std::vector<Bytes>& values) {
  proposals_[{id.index, id.term}] = values;
}

std::string InvariantChecker::on_persist(const SimMemberView& m, const std::vector<Entry>& appended) {
  if (appended.empty()) return "";
  auto prev = m.storage->term(appended.front().index - 1);
  if (!prev)
    return "member " + std::to_string(m.id) + " appended after a gap at " +
           std::to_string(appended.front().index);
  uint64_t prev_term = *prev;
  for (const Entry& e : appended) {
    auto [it, fresh] =
        identities_.try_emplace({e.index, e.term}, Identity{e.type, e.metadata, e.shares.size(), prev_term});
    const Identity& id = it->second;
    if (!fresh && (id.type != e.type || id.metadata != e.metadata || id.values != e.shares.size() ||
                   id.prev_term != prev_term)) {
      return "log matching: member " + std::to_string(m.id) + " stores a different " + at(e.index, e.term);
    }
    prev_term = e.term;
    auto values = proposals_.find({e.index, e.term});
    for (size_t v = 0; v < e.shares.size(); ++v) {
      auto d = testing::ref_decode(e.shares[v]);
      if (!d)
        return "member " + std::to_string(m.id) + " was given a malformed share of " + at(e.index, e.term);
      if (d->share.x != m.x || d->k != k_) {
        return "secrecy: member " + std::to_string(m.id) + " (x=" + std::to_string(m.x) +
               ") stores the share at x=" + std::to_string(d->share.x) + " of " + at(e.index, e.term);
      }
      if (values != proposals_.end()) {
        for (const Bytes& plain : values->second) {
          if (contains(e.shares[v], plain) || contains(e.metadata, plain)) {
            return "secrecy: member " + std::to_string(m.id) + " stores a plaintext value in " +
                   at(e.index, e.term);
          }
        }
      }
    }
  }
  return "";
}

std::string InvariantChecker::on_apply(MemberId member, const Entry& e) {
  auto [it, fresh] = committed_.try_emplace(e.index, e.term, e.metadata);
  if (!fresh && (it->second.first != e.term || it->second.second != e.metadata)) {
    return "state-machine safety: member " + std::to_string(member) + " applied " + at(e.index, e.term) +
           " but index " + std::to_string(e.index) + " was applied with term " +
           std::to_string(it->second.first);
  }
  if (fresh && !e.shares.empty()) newly_committed_.push_back(e.index);
  if (fresh && e.type == EntryType::kConfChange) {
    // Applied in index order: the first member to apply an index has applied every earlier one.
    auto change = decode_conf_change(e.metadata);
    if (!change) return "conf change " + at(e.index, e.term) + " does not decode: " + change.error().message;
    auto next = apply_conf_change(membership_, *change);
    if (!next) {
      return "conf change " + at(e.index, e.term) + " (" + to_string(change->type) + " of member " +
             std::to_string(change->id) + ") committed although it is invalid: " + next.error().message;
    }
    membership_ = std::move(*next);
    w_ = validate_membership(membership_)->commit_quorum;
    last_change_index_ = e.index;
    ++changes_committed_;
  }
  if (fresh && !e.shares.empty() && !proposals_.count({e.index, e.term})) {
    return "state-machine safety: " + at(e.index, e.term) + " was applied but never proposed";
  }
  return "";
}

std::string InvariantChecker::on_leader(MemberId member, uint64_t term) {
  auto [it, fresh] = leaders_.try_emplace(term, member);
  if (!fresh && it->second != member) {
    return "election safety: members " + std::to_string(it->second) + " and " + std::to_string(member) +
           " both lead term " + std::to_string(term);
  }
  return "";
}

std::string InvariantChecker::on_read(uint64_t read_index, uint64_t commit_when_issued) {
  if (read_index < commit_when_issued) {
    return "read index " + std::to_string(read_index) + " misses commit " +
           std::to_string(commit_when_issued) + " that happened before the read";
  }
  return "";
}

std::string InvariantChecker::check_leader_log(MemberId member, uint64_t term,
                                               const MemoryStorage& storage) const {
  // Only the newest leader: every commit so far happened in its term or earlier. A deposed leader
  // that has not noticed yet may legitimately lack entries committed after its term.
  if (leaders_.empty() || leaders_.rbegin()->first != term) return "";
  for (const auto& [index, c] : committed_) {
    if (index <= storage.snapshot_meta().index) continue;  // compacted: in its state machine
    auto t = storage.term(index);
    if (!t || *t != c.first) {
      return "leader completeness: leader " + std::to_string(member) + " lacks committed " +
             at(index, c.first);
    }
  }
  return "";
}

std::string InvariantChecker::check_rebuild(uint64_t index, uint64_t term,
                                            const std::vector<SimMemberView>& members,
                                            testing::TestRandom& rng) {
  auto proposal = proposals_.find({index, term});
  if (proposal == proposals_.end()) return at(index, term) + " has values but no proposal";
  const std::vector<Bytes>& values = proposal->second;
  for (size_t v = 0; v < values.size(); ++v) {
    std::vector<Bytes> good;
    for (const SimMemberView& m : members) {
      Entry scratch;
      const Entry* held = held_entry(m, index, term, scratch);
      if (!held) continue;
      const Bytes& share = held->shares.at(v);
      if (testing::ref_decode(share)) good.push_back(share);
    }
    if (good.size() < k_) {
      return "durability: committed " + at(index, term) + " value " + std::to_string(v) + " has only " +
             std::to_string(good.size()) + " intact shares, k=" + std::to_string(k_);
    }
    for (size_t i = good.size(); i > 1; --i) std::swap(good[i - 1], good[rng.below(i)]);
    auto rebuilt = testing::ref_combine_encoded(good, k_);
    ++rebuilds_checked_;
    if (!rebuilt || *rebuilt != values[v]) {
      return "state-machine safety: committed " + at(index, term) + " value " + std::to_string(v) +
             " does not rebuild to the proposed value from a random k-subset of its holders";
    }
  }
  return "";
}

std::string InvariantChecker::check_committed(const std::vector<SimMemberView>& members,
                                              testing::TestRandom& rng, unsigned extra, bool all) {
  for (const auto& [index, c] : committed_) {
    unsigned holders = 0;
    for (const SimMemberView& m : members) {
      if (is_voter(m.id) && holds_entry(m, index, c.first)) ++holders;
    }
    // Entries committed since the last completed change met this configuration's W; every committed
    // value keeps k holders among the current voters whatever changes completed since.
    const unsigned need = index > last_change_index_ ? w_ : k_;
    if (holders < need) {
      return "durability: committed " + at(index, c.first) + " is stored by " + std::to_string(holders) +
             " current voters, fewer than " + (index > last_change_index_ ? "W=" : "k=") +
             std::to_string(need) + " (last completed membership change at index " +
             std::to_string(last_change_index_) + ")";
    }
  }
  std::vector<uint64_t> todo;
  todo.swap(newly_committed_);
  if (all) {
    for (const auto& [index, c] : committed_) todo.push_back(index);
  } else if (!committed_.empty()) {
    for (unsigned i = 0; i < extra; ++i) {
      auto it = committed_.begin();
      std::advance(it, static_cast<long>(rng.below(committed_.size())));
      todo.push_back(it->first);
    }
  }
  for (uint64_t index : todo) {
    const auto& c = committed_.at(index);
    if (!proposals_.count({index, c.first})) continue;  // no values (no-op)
    std::string err = check_rebuild(index, c.first, members, rng);
    if (!err.empty()) return err;
  }
  return "";
}

std::string InvariantChecker::scan_for_plaintext(const SimMemberView& m) const {
  constexpr size_t kWindow = 16;  // every proposed value is at least this long
  std::set<Bytes> prefixes;
  for (const auto& [id, values] : proposals_)
    for (const Bytes& v : values) prefixes.emplace(v.begin(), v.begin() + kWindow);
  auto scan = [&](const Bytes& bytes) {
    for (size_t i = 0; i + kWindow <= bytes.size(); ++i) {
      if (prefixes.count(
              Bytes(bytes.begin() + static_cast<long>(i), bytes.begin() + static_cast<long>(i + kWindow)))) {
        return true;
      }
    }
    return false;
  };
  auto scan_entry = [&](const Entry& e) -> std::string {
    if (scan(e.metadata)) return "secrecy: member " + std::to_string(m.id) + " stores a value in metadata";
    for (const Bytes& s : e.shares)
      if (scan(s)) return "secrecy: member " + std::to_string(m.id) + " stores a value's bytes in a share";
    return "";
  };
  for (const Entry& e : m.storage->stored_entries())
    if (auto err = scan_entry(e); !err.empty()) return err;
  if (m.state_machine)
    for (const auto& [index, e] : *m.state_machine)
      if (auto err = scan_entry(e); !err.empty()) return err;
  return "";
}

}  // namespace etsecd::raft::sim
