#include "etsecd/repair/rebuild_chunk.h"

#include <span>

#include "etsecd/shamir/shamir.h"
#include "etsecd/shamir/share_codec.h"

namespace etsecd::repair {

namespace {

std::span<const uint8_t> bytes_of(const std::string& s) {
  return {reinterpret_cast<const uint8_t*>(s.data()), s.size()};
}

// The decoded share if it is intact and what it claims to be (x, threshold, length).
std::optional<shamir::ShareView> good_share(const std::string& encoded, uint8_t x, unsigned threshold,
                                            std::optional<size_t>& length) {
  auto decoded = shamir::decode_share(bytes_of(encoded));
  if (!decoded || decoded->k != threshold || decoded->share.x != x) return std::nullopt;
  if (length && *length != decoded->share.y.size()) return std::nullopt;
  length = decoded->share.y.size();
  return decoded->share;
}

}  // namespace

Result<RecordList> rebuild_chunk(const RecordList& chunk, uint8_t source_x,
                                 const std::vector<HolderShares>& holders, unsigned threshold,
                                 uint8_t target_x, int64_t holders_compact_revision, RebuildStats* stats) {
  RebuildStats local;
  RebuildStats& st = stats != nullptr ? *stats : local;
  if (target_x == 0 || target_x == source_x)
    return make_error("repair.bad_argument", "target share index is taken");
  for (const HolderShares& h : holders) {
    if (h.x == target_x || h.x == source_x || h.x == 0) {
      return make_error("repair.bad_argument", "a holder's share index is 0, the source's or the target's");
    }
    if (h.shares.size() != chunk.size()) {
      return make_error("repair.bad_argument", "holder shares do not line up with the chunk");
    }
  }
  uint64_t insufficient = 0;
  uint64_t inconsistent = 0;
  RecordList out;
  out.reserve(chunk.size());
  std::vector<shamir::ShareView> views;
  views.reserve(holders.size() + 1);
  for (size_t i = 0; i < chunk.size(); ++i) {
    const auto& [key, record] = chunk[i];
    if (record.tombstone) {
      out.push_back(chunk[i]);
      ++st.records;
      continue;
    }
    views.clear();
    std::optional<size_t> length;
    auto consider = [&](const std::string& encoded, uint8_t x) {
      if (auto v = good_share(encoded, x, threshold, length)) {
        views.push_back(*v);
      } else {
        ++st.rejected_shares;
      }
    };
    consider(record.share, source_x);
    for (const HolderShares& h : holders) {
      if (h.shares[i]) consider(*h.shares[i], h.x);
    }
    if (views.size() < threshold) {
      if (key.rev.main < holders_compact_revision) {
        ++st.skipped_compacted;
        continue;
      }
      ++insufficient;
      continue;
    }
    if (views.size() > threshold) {
      auto same = shamir::consistent(views, threshold);
      if (!same || !*same) {
        // With k+2 or more shares one bad share can be pinned down: the others agree without it.
        bool fixed = false;
        for (size_t j = 0; !fixed && views.size() >= threshold + 2 && j < views.size(); ++j) {
          std::vector<shamir::ShareView> rest = views;
          rest.erase(rest.begin() + static_cast<ptrdiff_t>(j));
          auto ok = shamir::consistent(rest, threshold);
          if (ok && *ok) {
            views = std::move(rest);
            fixed = true;
          }
        }
        if (!fixed) {
          ++inconsistent;
          continue;
        }
        ++st.outvoted_shares;
      }
      ++st.checked_extra;
    }
    auto share = shamir::repair_at(std::span(views).first(threshold), threshold, target_x);
    if (!share) return share.error();
    auto encoded = shamir::encode_share(*share, threshold);
    mvcc::Record rebuilt = record;
    rebuilt.share.assign(encoded.begin(), encoded.end());
    st.share_bytes += rebuilt.share.size();
    ++st.shares_computed;
    ++st.records;
    out.emplace_back(key, std::move(rebuilt));
  }
  if (inconsistent > 0) {
    return make_error("repair.inconsistent_shares",
                      std::to_string(inconsistent) +
                          " record(s) have shares on different polynomials: a "
                          "member's share is corrupt; retry with other holders");
  }
  if (insufficient > 0) {
    return make_error("repair.insufficient_shares",
                      std::to_string(insufficient) + " record(s) have fewer than " +
                          std::to_string(threshold) + " good shares among the source and holders");
  }
  return out;
}

}  // namespace etsecd::repair
