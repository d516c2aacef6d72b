#pragma once
// Every error the KV layer can return to a client, in one place, with the exact message etcd uses and the
// gRPC status code etcd sends it with. etcd clients match on these messages (clientv3's rpctypes maps the
// message text back to a typed error), so the texts must stay byte-for-byte identical to etcd's.
// The gRPC adapter maps an etsecd::Error to a status with grpc_code_of(error) and error.message.

#include <cstdint>
#include <string_view>

#include "etsecd/common/result.h"

namespace etsecd::mvcc {

// Numeric values are gRPC's (grpc/status.h); kept here so pure code needs no gRPC header.
enum class GrpcCode : int {
  kOk = 0,
  kInvalidArgument = 3,
  kNotFound = 5,
  kPermissionDenied = 7,
  kResourceExhausted = 8,
  kFailedPrecondition = 9,
  kOutOfRange = 11,
  kUnimplemented = 12,
  kInternal = 13,
  kUnavailable = 14,
  kDataLoss = 15,
};

struct ErrorSpec {
  std::string_view code;     // etsecd::Error::code
  std::string_view message;  // what the client sees (etcd's text where etcd has one)
  GrpcCode grpc;
};

// --- Request validation (before proposing) ---
// InvalidArgument, etcd ErrGRPCEmptyKey.
inline constexpr ErrorSpec kEmptyKey{"mvcc.empty_key", "etcdserver: key is not provided",
                                     GrpcCode::kInvalidArgument};
// InvalidArgument, etcd ErrGRPCRequestTooLarge (serialized request > max request bytes, 1.5 MiB default).
inline constexpr ErrorSpec kRequestTooLarge{"mvcc.request_too_large", "etcdserver: request is too large",
                                            GrpcCode::kInvalidArgument};
// InvalidArgument, etcd ErrGRPCTooManyOps (compare, success or failure list longer than max txn ops).
inline constexpr ErrorSpec kTooManyOps{"mvcc.too_many_ops", "etcdserver: too many operations in txn request",
                                       GrpcCode::kInvalidArgument};
// InvalidArgument, etcd ErrGRPCDuplicateKey (a key written twice, or put and deleted, in one txn branch).
inline constexpr ErrorSpec kDuplicateKey{
    "mvcc.duplicate_key", "etcdserver: duplicate key given in txn request", GrpcCode::kInvalidArgument};
// InvalidArgument, etcd ErrGRPCValueProvided (put with ignore_value and a non-empty value).
inline constexpr ErrorSpec kValueProvided{"mvcc.value_provided", "etcdserver: value is provided",
                                          GrpcCode::kInvalidArgument};
// InvalidArgument, etcd ErrGRPCLeaseProvided (put with ignore_lease and a lease).
inline constexpr ErrorSpec kLeaseProvided{"mvcc.lease_provided", "etcdserver: lease is provided",
                                          GrpcCode::kInvalidArgument};
// InvalidArgument. etcd 3.6's ErrGRPCInvalidSortOption text (3.4/3.5 accepted unknown enum values).
inline constexpr ErrorSpec kInvalidSortOption{"mvcc.invalid_sort_option", "etcdserver: invalid sort option",
                                              GrpcCode::kInvalidArgument};
// InvalidArgument. etsecd-specific: etcd silently returns nothing for range_end <= key (other than the
// "\0" = "to the end" convention); we refuse it so a mistaken range is visible to the caller.
inline constexpr ErrorSpec kInvalidRange{"mvcc.invalid_range",
                                         "etcdserver: invalid range: range_end must be greater than key",
                                         GrpcCode::kInvalidArgument};
// InvalidArgument. etsecd-specific bound on nested txn depth (etcd has none; it bounds ops per level).
inline constexpr ErrorSpec kTxnTooDeep{"mvcc.txn_too_deep", "etcdserver: txn request nested too deeply",
                                       GrpcCode::kInvalidArgument};
// InvalidArgument: unknown enum value in a compare.
inline constexpr ErrorSpec kInvalidCompare{"mvcc.invalid_compare", "etcdserver: invalid compare",
                                           GrpcCode::kInvalidArgument};

// --- Deterministic apply-time errors (every member returns the same one; state unchanged) ---
// OutOfRange, etcd ErrGRPCCompacted (mvcc.ErrCompacted with the server prefix clients print).
inline constexpr ErrorSpec kCompacted{
    "mvcc.compacted", "etcdserver: mvcc: required revision has been compacted", GrpcCode::kOutOfRange};
// OutOfRange, etcd ErrGRPCFutureRev.
inline constexpr ErrorSpec kFutureRevision{"mvcc.future_revision",
                                           "etcdserver: mvcc: required revision is a future revision",
                                           GrpcCode::kOutOfRange};
// NotFound, etcd ErrGRPCLeaseNotFound: etsecd grants no leases, so any lease id is unknown.
inline constexpr ErrorSpec kLeaseNotFound{"mvcc.lease_not_found", "etcdserver: requested lease not found",
                                          GrpcCode::kNotFound};
// InvalidArgument, etcd ErrGRPCKeyNotFound (put with ignore_value/ignore_lease on a missing key).
inline constexpr ErrorSpec kKeyNotFound{"mvcc.key_not_found", "etcdserver: key not found",
                                        GrpcCode::kInvalidArgument};

// --- Internal errors (never expected from a correct leader; reported, never guessed around) ---
// Internal: an entry refers to a value slot this member got no share for.
inline constexpr ErrorSpec kMissingShare{"mvcc.missing_share", "etcdserver: internal: missing value share",
                                         GrpcCode::kInternal};
// Internal: the entry index is not the next one to apply (replayed or skipped raft entry).
inline constexpr ErrorSpec kIndexOutOfOrder{
    "mvcc.index_out_of_order", "etcdserver: internal: raft entry applied out of order", GrpcCode::kInternal};
// DataLoss: the backend failed to read or durably write; the store refuses further work.
inline constexpr ErrorSpec kStorage{"mvcc.storage", "etcdserver: storage failure", GrpcCode::kDataLoss};
// DataLoss: the on-disk state does not decode or is inconsistent.
inline constexpr ErrorSpec kCorrupt{"mvcc.corrupt", "etcdserver: corrupt member data", GrpcCode::kDataLoss};
// Unavailable: this member is receiving a snapshot of shares (share repair) and serves nothing until it
// is complete; clients retry elsewhere.
inline constexpr ErrorSpec kRepairing{"mvcc.repairing", "etcdserver: member is being repaired",
                                      GrpcCode::kUnavailable};
// FailedPrecondition: a snapshot chunk arrived with no install in progress (or for another snapshot).
inline constexpr ErrorSpec kNoInstall{"mvcc.no_install",
                                      "etcdserver: internal: no snapshot install in progress",
                                      GrpcCode::kFailedPrecondition};
// InvalidArgument: an entry's encoded metadata does not decode (see entry_codec.h).
inline constexpr ErrorSpec kBadEntry{"mvcc.bad_entry", "etcdserver: internal: malformed entry metadata",
                                     GrpcCode::kInternal};

inline Error make_error(const ErrorSpec& spec) {
  return etsecd::make_error(std::string(spec.code), std::string(spec.message));
}
// For internal errors: keeps the client message stable and puts the detail (never a value or share) after it.
inline Error make_error(const ErrorSpec& spec, std::string_view detail) {
  std::string message(spec.message);
  message += ": ";
  message += detail;
  return etsecd::make_error(std::string(spec.code), std::move(message));
}

inline bool is(const Error& error, const ErrorSpec& spec) { return error.code == spec.code; }

// The gRPC code for any error produced by this layer; kInternal for codes it does not know.
GrpcCode grpc_code_of(const Error& error);

}  // namespace etsecd::mvcc
