// How `--streams N` divides one model's layers over N concurrent calls. Pure logic, no
// gRPC: the remote analyzer uses it, tests check it directly.
#ifndef HTSR_CLIENT_REMOTE_LAYER_SPLIT_H_
#define HTSR_CLIENT_REMOTE_LAYER_SPLIT_H_

#include <cstdint>
#include <vector>

#include "htsr/layer.h"

namespace htsr {

// Splits `plans` (the selected layers, in layer order; `bytes[k]` the tensor bytes plans[k]
// sends) into at most `streams` non-empty groups of layer ids, each in layer order, of
// about equal bytes: greedily, the next layer goes to the lightest group, so every stream
// walks the model front to back and rows keep arriving roughly in depth order.
//
// One rule keeps the numbers bit-identical to a single call: the server, like embedded
// mode, gives all BLAS threads to a call's small layer (!IsLargeLayer) when it is the
// call's only one. So no group holds exactly one small layer unless the whole selection
// does; lone ones are paired up with the groups that have the fewest.
std::vector<std::vector<int32_t>> SplitLayersForStreams(const std::vector<LayerPlan>& plans,
                                                        const std::vector<uint64_t>& bytes,
                                                        int streams);

}  // namespace htsr

#endif  // HTSR_CLIENT_REMOTE_LAYER_SPLIT_H_
