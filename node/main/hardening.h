#pragma once
// Process settings that keep plaintext values (held in memory while a leader splits or a read
// rebuilds them) out of crash dumps and away from other processes of the same user.
namespace etsecd::node {
void harden_process();
}
