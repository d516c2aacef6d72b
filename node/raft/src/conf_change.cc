#include "etsecd/raft/conf_change.h"

#include <string>

#include "etsecd/raft/quorum.h"

namespace etsecd::raft {

namespace {

// Layout (little-endian): version u8, type u8, id u64, x u8, context length u32, context bytes.
constexpr uint8_t kConfChangeVersion = 1;
constexpr size_t kFixedSize = 1 + 1 + 8 + 1 + 4;

void put_le(Bytes& out, uint64_t v, int width) {
  for (int i = 0; i < width; ++i) out.push_back(static_cast<uint8_t>(v >> (8 * i)));
}

uint64_t get_le(const Bytes& in, size_t at, int width) {
  uint64_t v = 0;
  for (int i = 0; i < width; ++i) v |= static_cast<uint64_t>(in[at + static_cast<size_t>(i)]) << (8 * i);
  return v;
}

Error bad(const std::string& why) {
  return make_error("raft.bad_conf_change", "malformed conf change: " + why);
}

Member* find(Membership& m, MemberId id) {
  for (Member& member : m.members)
    if (member.id == id) return &member;
  return nullptr;
}

Error unknown(MemberId id) {
  return make_error("raft.unknown_member", "member " + std::to_string(id) + " is not in the membership");
}

}  // namespace

const char* to_string(ConfChangeType type) {
  switch (type) {
    case ConfChangeType::kAddLearner:
      return "add-learner";
    case ConfChangeType::kPromote:
      return "promote";
    case ConfChangeType::kRemove:
      return "remove";
    case ConfChangeType::kUpdate:
      return "update";
  }
  return "?";
}

Bytes encode_conf_change(const ConfChange& change) {
  Bytes out;
  out.reserve(kFixedSize + change.context.size());
  out.push_back(kConfChangeVersion);
  out.push_back(static_cast<uint8_t>(change.type));
  put_le(out, change.id, 8);
  out.push_back(change.x);
  put_le(out, change.context.size(), 4);
  out.insert(out.end(), change.context.begin(), change.context.end());
  return out;
}

Result<ConfChange> decode_conf_change(const Bytes& bytes) {
  if (bytes.size() < kFixedSize) {
    return bad(std::to_string(bytes.size()) + " bytes, at least " + std::to_string(kFixedSize) + " expected");
  }
  if (bytes[0] != kConfChangeVersion) return bad("unsupported version " + std::to_string(bytes[0]));
  if (bytes[1] > static_cast<uint8_t>(ConfChangeType::kUpdate)) {
    return bad("unknown change type " + std::to_string(bytes[1]));
  }
  ConfChange change;
  change.type = static_cast<ConfChangeType>(bytes[1]);
  change.id = get_le(bytes, 2, 8);
  change.x = bytes[10];
  const uint64_t length = get_le(bytes, 11, 4);
  if (length != bytes.size() - kFixedSize) {
    return bad("context length " + std::to_string(length) + " does not match the " +
               std::to_string(bytes.size() - kFixedSize) + " bytes that follow");
  }
  change.context.assign(bytes.begin() + static_cast<long>(kFixedSize), bytes.end());
  return change;
}

Result<Membership> apply_conf_change(const Membership& membership, const ConfChange& change) {
  if (change.id == kNoMember) return bad("member id 0 is reserved");
  Membership next = membership;
  Member* target = find(next, change.id);
  switch (change.type) {
    case ConfChangeType::kAddLearner: {
      if (target) {
        return make_error("raft.member_exists", "member " + std::to_string(change.id) + " is already a " +
                                                    (target->voter ? "voter" : "learner"));
      }
      unsigned x = change.x;
      if (x == 0) {
        x = static_cast<unsigned>(membership.max_x_used) + 1;
        if (x > kMaxMembers) {
          return bad("every share index 1..255 has been used; no new member can join this cluster");
        }
      } else if (x <= membership.max_x_used) {
        return make_error("raft.x_reused", "share index " + std::to_string(x) +
                                               " was already used (indexes 1.." +
                                               std::to_string(membership.max_x_used) +
                                               " are taken for good); a new member needs x > " +
                                               std::to_string(membership.max_x_used));
      }
      next.members.push_back(Member{change.id, static_cast<uint8_t>(x), false, change.context});
      next.max_x_used = static_cast<uint8_t>(x);
      break;
    }
    case ConfChangeType::kPromote:
      if (!target) return unknown(change.id);
      if (target->voter) {
        return make_error("raft.not_learner", "member " + std::to_string(change.id) +
                                                  " is already a voter; only learners are promoted");
      }
      target->voter = true;
      break;
    case ConfChangeType::kRemove: {
      if (!target) return unknown(change.id);
      unsigned voters = 0;
      for (const Member& m : next.members) voters += m.voter ? 1 : 0;
      if (target->voter && voters == 1) {
        return make_error("raft.last_voter",
                          "member " + std::to_string(change.id) + " is the only voter and cannot be removed");
      }
      std::erase_if(next.members, [&](const Member& m) { return m.id == change.id; });
      break;
    }
    case ConfChangeType::kUpdate:
      if (!target) return unknown(change.id);
      target->context = change.context;
      break;
  }
  // k and W stay as configured; refuse a change that leaves them out of range for the new voter count.
  auto q = validate_membership(next);
  if (!q) return q.error();
  return next;
}

}  // namespace etsecd::raft
