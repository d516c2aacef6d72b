#include "etsecd/mvcc/errors.h"

#include <array>

namespace etsecd::mvcc {

GrpcCode grpc_code_of(const Error& error) {
  static constexpr std::array kAll = {
      kEmptyKey,        kRequestTooLarge,   kTooManyOps,    kDuplicateKey, kValueProvided,
      kLeaseProvided,   kInvalidSortOption, kInvalidRange,  kTxnTooDeep,   kInvalidCompare,
      kCompacted,       kFutureRevision,    kLeaseNotFound, kKeyNotFound,  kMissingShare,
      kIndexOutOfOrder, kStorage,           kCorrupt,       kBadEntry,
  };
  for (const ErrorSpec& spec : kAll) {
    if (error.code == spec.code) return spec.grpc;
  }
  return GrpcCode::kInternal;
}

}  // namespace etsecd::mvcc
