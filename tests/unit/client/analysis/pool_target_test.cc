#include "analysis/pool_target.h"

#include <gtest/gtest.h>

namespace htsr::scan {
namespace {

TEST(PoolTargetTest, SingleAddressResolvesThroughDns) {
  EXPECT_EQ(*analysis::PoolTarget("127.0.0.1:7001"), "dns:///127.0.0.1:7001");
  EXPECT_EQ(*analysis::PoolTarget("htsr.ml.svc.cluster.local:7001"),
            "dns:///htsr.ml.svc.cluster.local:7001");
}

TEST(PoolTargetTest, CommaListOfIpsBecomesAStaticList) {
  EXPECT_EQ(*analysis::PoolTarget("127.0.0.1:1, 127.0.0.1:2,10.1.2.3:3"),
            "ipv4:127.0.0.1:1,127.0.0.1:2,10.1.2.3:3");
  EXPECT_EQ(*analysis::PoolTarget("[::1]:1,[::1]:2"), "ipv6:[::1]:1,[::1]:2");
}

TEST(PoolTargetTest, ExplicitSchemesPassThrough) {
  EXPECT_EQ(*analysis::PoolTarget("dns:///pool:7001"), "dns:///pool:7001");
  EXPECT_EQ(*analysis::PoolTarget("ipv4:127.0.0.1:1,127.0.0.1:2"), "ipv4:127.0.0.1:1,127.0.0.1:2");
}

TEST(PoolTargetTest, BadListsAreErrors) {
  EXPECT_FALSE(analysis::PoolTarget("").ok());
  EXPECT_FALSE(analysis::PoolTarget("127.0.0.1").ok());                // no port
  EXPECT_FALSE(analysis::PoolTarget("127.0.0.1:99999").ok());          // port range
  EXPECT_FALSE(analysis::PoolTarget("a.example:1,b.example:2").ok());  // names in a list
  EXPECT_FALSE(analysis::PoolTarget("127.0.0.1:1,[::1]:2").ok());      // mixed families
}

}  // namespace
}  // namespace htsr::scan

TEST(PoolMemberTargetsTest, CommaListGivesOneTargetPerServer) {
  EXPECT_EQ(htsr::analysis::PoolMemberTargets("127.0.0.1:7001, 127.0.0.1:7002").value(),
            (std::vector<std::string>{"ipv4:127.0.0.1:7001", "ipv4:127.0.0.1:7002"}));
  EXPECT_EQ(htsr::analysis::PoolMemberTargets("[::1]:7001,[::1]:7002").value(),
            (std::vector<std::string>{"ipv6:[::1]:7001", "ipv6:[::1]:7002"}));
}

TEST(PoolMemberTargetsTest, NamesAndExplicitTargetsStayOneMember) {
  EXPECT_EQ(htsr::analysis::PoolMemberTargets("htsr.ns.svc:7001").value(),
            (std::vector<std::string>{"dns:///htsr.ns.svc:7001"}));
  EXPECT_EQ(htsr::analysis::PoolMemberTargets("ipv4:127.0.0.1:1,127.0.0.1:2").value(),
            (std::vector<std::string>{"ipv4:127.0.0.1:1,127.0.0.1:2"}));
  EXPECT_FALSE(htsr::analysis::PoolMemberTargets("a:1,b:2").ok());
}
