#pragma once
#include <string>
#include <vector>
namespace etsecd::node {
// `etsecd-node inspect --data-dir DIR [--prefix P]`: prints every stored record of a stopped member:
// key, revision, version and the share bytes in hex with the share's x and k, so a person can see that
// members hold different, meaningless bytes. Returns the process exit code.
int run_inspect(const std::vector<std::string>& args);
}  // namespace etsecd::node
