// `--server` to a gRPC target for a pool of servers behind client-side round_robin:
//
//   127.0.0.1:7001                  -> dns:///127.0.0.1:7001
//   htsr.ns.svc.cluster.local:7001  -> dns:///htsr.ns.svc.cluster.local:7001 (a headless
//                                      Service resolves to every pod: one subchannel each)
//   10.0.0.1:7001,10.0.0.2:7001     -> ipv4:10.0.0.1:7001,10.0.0.2:7001
//   [::1]:7001,[::1]:7002           -> ipv6:[::1]:7001,[::1]:7002
//   dns:///..., ipv4:..., unix:...  -> unchanged
// A comma list must be IP literals of one family: gRPC resolves one name per target, so a
// list of names is better served by one DNS name (see deploy/README.md).
#ifndef HTSR_CLIENT_ANALYSIS_POOL_TARGET_H_
#define HTSR_CLIENT_ANALYSIS_POOL_TARGET_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace htsr::analysis {

absl::StatusOr<std::string> PoolTarget(const std::string& server);

// The pool's members, each a target of its own: a comma list of IP literals gives one per
// address ("ipv4:10.0.0.1:7001", ...), so the caller can choose the server of each attempt
// (and keep a frozen one out); anything else is one member, PoolTarget(server), which
// round_robin spreads over whatever the name resolves to.
absl::StatusOr<std::vector<std::string>> PoolMemberTargets(const std::string& server);

// The gRPC service config that selects round_robin (pick_first is gRPC's default).
inline constexpr char kRoundRobinServiceConfig[] =
    R"({"loadBalancingConfig":[{"round_robin":{}}]})";

}  // namespace htsr::analysis

#endif  // HTSR_CLIENT_ANALYSIS_POOL_TARGET_H_
