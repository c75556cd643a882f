#include "server/server_config.h"

#include <cstdio>
#include <fstream>

#include <gtest/gtest.h>

#include "server/auth.h"
#include "server/size_flag.h"

namespace htsr::server {
namespace {

TEST(ServerConfig, LoopbackOnlyWithoutTls) {
  EXPECT_TRUE(IsLoopbackAddress("127.0.0.1:50051"));
  EXPECT_TRUE(IsLoopbackAddress("127.8.0.1:1"));
  EXPECT_TRUE(IsLoopbackAddress("localhost:1"));
  EXPECT_TRUE(IsLoopbackAddress("[::1]:50051"));
  EXPECT_TRUE(IsLoopbackAddress("unix:/tmp/s"));
  EXPECT_FALSE(IsLoopbackAddress("0.0.0.0:50051"));
  EXPECT_FALSE(IsLoopbackAddress("[::]:50051"));
  EXPECT_FALSE(IsLoopbackAddress("10.0.0.1:50051"));
  EXPECT_FALSE(IsLoopbackAddress("127.0.0.1.evil.com:1"));

  ServerConfig c;
  c.listen = "0.0.0.0:50051";
  EXPECT_EQ(ValidateConfig(c).code(), absl::StatusCode::kInvalidArgument);
  c.insecure_listen = true;
  EXPECT_TRUE(ValidateConfig(c).ok());
  c.insecure_listen = false;
  c.tls_cert_file = "cert.pem";
  c.tls_key_file = "key.pem";
  EXPECT_TRUE(ValidateConfig(c).ok());
}

TEST(ServerConfig, RejectsInconsistentLimits) {
  ServerConfig c;
  c.max_layer_bytes = c.queue_bytes + 1;
  EXPECT_FALSE(ValidateConfig(c).ok());
  c = ServerConfig{};
  c.max_message_bytes = c.max_chunk_bytes;
  EXPECT_FALSE(ValidateConfig(c).ok());
  c = ServerConfig{};
  c.tls_key_file = "key.pem";
  EXPECT_FALSE(ValidateConfig(c).ok());
  c = ServerConfig{};
  c.tls_client_ca_file = "ca.pem";
  EXPECT_FALSE(ValidateConfig(c).ok());
  EXPECT_TRUE(ValidateConfig(ServerConfig{}).ok());
}

TEST(SizeFlag, Parses) {
  EXPECT_EQ(*ParseByteSize("4096"), 4096u);
  EXPECT_EQ(*ParseByteSize("64K"), 64u << 10);
  EXPECT_EQ(*ParseByteSize("5M"), 5u << 20);
  EXPECT_EQ(*ParseByteSize("2g"), 2ull << 30);
  EXPECT_FALSE(ParseByteSize("").ok());
  EXPECT_FALSE(ParseByteSize("1.5G").ok());
  EXPECT_FALSE(ParseByteSize("-1").ok());
  EXPECT_FALSE(ParseByteSize("99999999999999999999G").ok());
  EXPECT_FALSE(ParseByteSize("17179869184G").ok());  // overflows after the shift
}

TEST(Auth, ConstantTimeEquals) {
  EXPECT_TRUE(ConstantTimeEquals("abc", "abc"));
  EXPECT_FALSE(ConstantTimeEquals("abc", "abd"));
  EXPECT_FALSE(ConstantTimeEquals("abc", "ab"));
  EXPECT_TRUE(ConstantTimeEquals("", ""));
}

}  // namespace
}  // namespace htsr::server
