// SPDX-License-Identifier: GPL-3.0-or-later
// Placeholder: no tokens until the policy is written.
#include "headroom/PoolPolicy.h"

namespace headroom {

unsigned maxPoolTokens(unsigned cpus)
{
    return cpus > 1 ? cpus - 1 : 0;
}

PoolDecision decidePool(const PoolInputs&, const PoolSettings&)
{
    PoolDecision d;
    d.heldBack = "the pool's policy is not written yet";
    return d;
}

} // namespace headroom
