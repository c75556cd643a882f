#include "server/call_log.h"

#include <string>

#include <gtest/gtest.h>

namespace htsr::server {
namespace {

TEST(CallLog, OneLineWithClientTextEscaped) {
  CallRecord r;
  r.call_id = 7;
  r.method = "Analyze";
  r.peer = "ipv4:127.0.0.1:5000";
  // A client names its model to break the log: a quote, a newline, a control byte.
  r.model = "m\"odel\n{\"event\":\"forged\"}\x01";
  r.layers = 3;
  r.tensors = 2;
  r.bytes = 1024;
  r.seconds = 0.5;
  r.receive_seconds = 0.25;
  r.code = "INVALID_ARGUMENT";
  r.message = "bad \\ chunk";
  const std::string line = FormatCallRecord(r);
  EXPECT_EQ(line.find('\n'), std::string::npos) << line;
  EXPECT_NE(line.find("\"model\":\"m\\\"odel\\n{\\\"event\\\":\\\"forged\\\"}\\u0001\""),
            std::string::npos)
      << line;
  EXPECT_NE(line.find("\"message\":\"bad \\\\ chunk\""), std::string::npos) << line;
  EXPECT_NE(line.find("\"call\":7,\"method\":\"Analyze\",\"peer\":\"ipv4:127.0.0.1:5000\""),
            std::string::npos)
      << line;
  EXPECT_NE(line.find("\"layers\":3,\"tensors\":2,\"bytes\":1024,\"seconds\":0.500000,"
                      "\"receive_seconds\":0.250000,\"code\":\"INVALID_ARGUMENT\""),
            std::string::npos)
      << line;
  EXPECT_EQ(line.front(), '{');
  EXPECT_EQ(line.back(), '}');
}

TEST(CallLog, GrpcCodeNames) {
  EXPECT_STREQ(GrpcCodeName(0), "OK");
  EXPECT_STREQ(GrpcCodeName(8), "RESOURCE_EXHAUSTED");
  EXPECT_STREQ(GrpcCodeName(16), "UNAUTHENTICATED");
  EXPECT_STREQ(GrpcCodeName(17), "UNKNOWN");
  EXPECT_STREQ(GrpcCodeName(-1), "UNKNOWN");
}

}  // namespace
}  // namespace htsr::server
