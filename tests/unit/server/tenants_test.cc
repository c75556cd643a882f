#include "server/tenants.h"

#include <gtest/gtest.h>

#include "server/metrics.h"

namespace htsr::server {
namespace {

TEST(ParseTenantFileTest, NamedTokensWithOptionalLimits) {
  absl::StatusOr<std::vector<TenantEntry>> t =
      ParseTenantFile("# comment\n\nalice tokA 4\nbob\ttokB - 512M\ncarol tokC\n");
  ASSERT_TRUE(t.ok()) << t.status();
  ASSERT_EQ(t->size(), 3u);
  EXPECT_EQ((*t)[0].name, "alice");
  EXPECT_EQ((*t)[0].token, "tokA");
  EXPECT_EQ((*t)[0].max_calls, 4u);
  EXPECT_EQ((*t)[1].max_calls, 0u);
  EXPECT_EQ((*t)[1].queue_bytes, uint64_t{512} << 20);
  EXPECT_EQ((*t)[2].max_calls, 0u);
}

TEST(ParseTenantFileTest, BareTokenIsTheDefaultTenant) {
  absl::StatusOr<std::vector<TenantEntry>> t = ParseTenantFile("  s3cret \n");
  ASSERT_TRUE(t.ok()) << t.status();
  ASSERT_EQ(t->size(), 1u);
  EXPECT_EQ((*t)[0].name, "default");
  EXPECT_EQ((*t)[0].token, "s3cret");
}

TEST(ParseTenantFileTest, ErrorsNameTheLineNeverTheToken) {
  for (const char* bad : {"", "# only a comment\n", "a tokA 0\n", "a tokA x\n", "a tok 1 2G 9\n",
                          "a tokA\na tokB\n", "a same\nb same\n", "a/b tokA\n", "a tokA 1 0\n"}) {
    absl::StatusOr<std::vector<TenantEntry>> t = ParseTenantFile(bad);
    EXPECT_FALSE(t.ok()) << bad;
    if (!t.ok()) {
      EXPECT_EQ(std::string(t.status().message()).find("tokA"), std::string::npos) << bad;
    }
  }
}

TEST(TenantRegistryTest, AdmitCountsAgainstTheTenantLimit) {
  Tenant t;
  t.name = "a";
  t.max_calls = 2;
  EXPECT_TRUE(TenantRegistry::Admit(t).ok());
  EXPECT_TRUE(TenantRegistry::Admit(t).ok());
  absl::Status third = TenantRegistry::Admit(t);
  EXPECT_EQ(third.code(), absl::StatusCode::kResourceExhausted);
  EXPECT_NE(std::string(third.message()).find("tenant 'a' busy"), std::string::npos);
  TenantRegistry::Release(t);
  EXPECT_TRUE(TenantRegistry::Admit(t).ok());
  t.max_calls = 0;  // no limit
  for (int i = 0; i < 10; ++i) EXPECT_TRUE(TenantRegistry::Admit(t).ok());
}

TEST(ServerMetricsTest, RendersCountersByTenantAndCodeAndHistograms) {
  ServerMetrics m;
  m.CallStarted("a");
  CallRecord ok;
  ok.code = "OK";
  ok.bytes = 100;
  ok.tensors = 2;
  ok.layers = 2;
  ok.seconds = 0.2;
  ok.receive_seconds = 0.05;
  m.CallFinished("a", ok, true);
  CallRecord refused;
  refused.code = "RESOURCE_EXHAUSTED";
  m.CallFinished("q\"x", refused, false);
  m.Solve(0.003);
  m.AddGauge({"htsr_test_gauge", "a gauge", [] { return 7.0; }});
  const std::string text = m.Render();
  for (const char* want : {
           "htsr_calls_started_total{tenant=\"a\"} 1\n",
           "htsr_calls_started_total{tenant=\"q\\\"x\"} 1\n",
           "htsr_calls_finished_total{tenant=\"a\",code=\"OK\"} 1\n",
           "htsr_errors_total{tenant=\"q\\\"x\",code=\"RESOURCE_EXHAUSTED\"} 1\n",
           "htsr_received_bytes_total{tenant=\"a\"} 100\n",
           "htsr_layers_analyzed_total{tenant=\"a\"} 2\n",
           "htsr_stage_seconds_bucket{stage=\"solve\",le=\"0.001\"} 0\n",
           "htsr_stage_seconds_bucket{stage=\"solve\",le=\"0.005\"} 1\n",
           "htsr_stage_seconds_bucket{stage=\"solve\",le=\"+Inf\"} 1\n",
           "htsr_stage_seconds_count{stage=\"receive\"} 1\n",
           "htsr_call_seconds_count 1\n",
           "# TYPE htsr_test_gauge gauge\nhtsr_test_gauge 7\n",
       }) {
    EXPECT_NE(text.find(want), std::string::npos) << want << "\n" << text;
  }
  EXPECT_EQ(text.find("htsr_errors_total{tenant=\"a\""), std::string::npos);
}

}  // namespace
}  // namespace htsr::server

namespace htsr::server {
namespace {

TEST(TenantBudgetTest, ATenantWaitsOnItsOwnShareNotInFrontOfOthers) {
  MemoryBudget server(100);
  TenantBudget a(60, &server), b(60, &server);
  int granted_a = 0, granted_b = 0;
  EXPECT_TRUE(a.ReserveOrWait(60, 1, [] {}));
  EXPECT_FALSE(a.ReserveOrWait(10, 2, [&] { ++granted_a; }));  // a's share is full
  EXPECT_EQ(server.used(), 60u);
  EXPECT_TRUE(b.ReserveOrWait(40, 3, [] {}));  // b is not queued behind a's waiter
  EXPECT_EQ(server.used(), 100u);
  EXPECT_FALSE(b.ReserveOrWait(10, 4, [&] { ++granted_b; }));  // b's share fits, the server not
  EXPECT_EQ(b.used(), 50u);
  a.Release(60);  // frees a's share and the server: both waiters go through
  EXPECT_EQ(granted_a, 1);
  EXPECT_EQ(granted_b, 1);
  EXPECT_EQ(a.used(), 10u);
  EXPECT_EQ(server.used(), 60u);
  a.Release(10);
  b.Release(50);
  EXPECT_EQ(server.used(), 0u);
  EXPECT_EQ(a.used(), 0u);
  EXPECT_EQ(b.used(), 0u);
}

TEST(TenantBudgetTest, CancelWaitAtEitherLevelGivesBackWhatWasHeld) {
  MemoryBudget server(100);
  TenantBudget a(60, &server);
  EXPECT_TRUE(server.ReserveOrWait(90, 9, [] {}));
  bool granted = false;
  EXPECT_FALSE(a.ReserveOrWait(50, 1, [&] { granted = true; }));  // held in a, waits on server
  EXPECT_EQ(a.used(), 50u);
  EXPECT_TRUE(a.CancelWait(1));
  EXPECT_EQ(a.used(), 0u);
  EXPECT_TRUE(a.ReserveOrWait(60, 2, [] {}) == false);  // waits on the server again
  EXPECT_FALSE(a.ReserveOrWait(10, 3, [] {}));          // waits on a's share
  EXPECT_TRUE(a.CancelWait(3));
  EXPECT_FALSE(a.CancelWait(7));  // unknown
  server.Release(90);             // a's 60 go through
  EXPECT_FALSE(granted);
  EXPECT_EQ(server.used(), 60u);
  EXPECT_FALSE(a.CancelWait(2));  // granted already: the caller owns the bytes
  a.Release(60);
  EXPECT_EQ(server.used(), 0u);
}

}  // namespace
}  // namespace htsr::server
