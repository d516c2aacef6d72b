#pragma once
// The reconciler: a pure, level-based function from what is observed to what should be done. It does
// no I/O; the only outside input besides its arguments is OpenSSL's CSPRNG, used when a key has to be
// minted. Reconciling the state that results from applying a plan yields a plan without actions.

#include <chrono>

#include "etsecd/reconcile/observed_state.h"
#include "etsecd/reconcile/plan.h"

namespace etsecd::reconcile {

Plan reconcile(const ObservedState& observed, std::chrono::system_clock::time_point now);

}  // namespace etsecd::reconcile
