#include "inspect.h"

#include <filesystem>
#include <iostream>

#include "etsecd/shamir/share_codec.h"
#include "etsecd/storage/rocks_backend.h"

namespace etsecd::node {
namespace {

std::string hex(std::string_view bytes, size_t max = 64) {
  static const char* d = "0123456789abcdef";
  std::string out;
  for (size_t i = 0; i < bytes.size() && i < max; ++i) {
    const auto c = static_cast<unsigned char>(bytes[i]);
    out += d[c >> 4];
    out += d[c & 15];
  }
  if (bytes.size() > max) out += "...";
  return out;
}

// Keys are plaintext metadata; print them readably but unambiguously.
std::string printable(const std::string& key) {
  std::string out;
  for (unsigned char c : key) {
    if (c >= 0x20 && c < 0x7f && c != '\\') {
      out += static_cast<char>(c);
    } else {
      out += "\\x" + hex(std::string_view(reinterpret_cast<const char*>(&c), 1));
    }
  }
  return out;
}

}  // namespace

int run_inspect(const std::vector<std::string>& args) {
  std::string data_dir, prefix;
  for (size_t i = 0; i < args.size(); ++i) {
    auto take = [&](const std::string& flag, std::string& out) {
      if (args[i] == flag && i + 1 < args.size()) {
        out = args[++i];
        return true;
      }
      if (args[i].rfind(flag + "=", 0) == 0) {
        out = args[i].substr(flag.size() + 1);
        return true;
      }
      return false;
    };
    if (take("--data-dir", data_dir) || take("--prefix", prefix)) continue;
    std::cerr << "etsecd-node inspect: unknown argument '" << args[i]
              << "'\nusage: etsecd-node inspect --data-dir DIR [--prefix P]\n";
    return 2;
  }
  if (data_dir.empty()) {
    std::cerr << "etsecd-node inspect: --data-dir is required\n";
    return 2;
  }
  const auto kv_dir = std::filesystem::path(data_dir) / "kv";
  if (!std::filesystem::exists(kv_dir)) {
    std::cerr << "etsecd-node inspect: '" << data_dir << "' holds no etsecd key-value store\n";
    return 1;
  }
  storage::RocksOptions options;
  options.create_if_missing = false;
  options.sync = false;
  // RocksDB's lock makes this fail while the member runs: inspect a stopped member (or a copy).
  auto backend = storage::RocksBackend::open(kv_dir.string(), options);
  if (!backend) {
    std::cerr << "etsecd-node inspect: " << backend.error().message << "\n";
    return 1;
  }
  std::cout << "key\trevision\tversion\tx\tk\tshare (hex)\n";
  size_t n = 0;
  auto st = (*backend)->scan([&](const mvcc::RecordKey& rk, const mvcc::Record& rec) -> Status {
    if (rk.key.rfind(prefix, 0) != 0) return Status::Ok();
    ++n;
    std::cout << printable(rk.key) << '\t' << rk.rev.main << '.' << rk.rev.sub << '\t';
    if (rec.tombstone) {
      std::cout << "-\t-\t-\t(deleted)\n";
      return Status::Ok();
    }
    std::cout << rec.version << '\t';
    auto d = shamir::decode_share({reinterpret_cast<const uint8_t*>(rec.share.data()), rec.share.size()});
    if (d) {
      std::cout << int(d->share.x) << '\t' << d->k << '\t';
    } else {
      std::cout << "?\t?\t";
    }
    std::cout << hex(rec.share) << '\n';
    return Status::Ok();
  });
  if (!st) {
    std::cerr << "etsecd-node inspect: " << st.error().message << "\n";
    return 1;
  }
  std::cout << n << " records\n";
  return 0;
}

}  // namespace etsecd::node
