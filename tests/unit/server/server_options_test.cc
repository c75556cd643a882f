// htsr-server's options: parsed by the project's one parser into ServerConfig.
#include "server/server_options.h"

#include <string>
#include <vector>

#include "gtest/gtest.h"

namespace htsr::server {
namespace {

absl::StatusOr<ServerStartup> Startup(const std::vector<std::string>& argv) {
  absl::StatusOr<ParsedArgs> args = ServerArgParser().Parse(argv);
  if (!args.ok()) return args.status();
  return ServerStartupFromArgs(*args);
}

TEST(ServerOptionsTest, DefaultsEqualServerConfigDefaults) {
  absl::StatusOr<ServerStartup> s = Startup({});
  ASSERT_TRUE(s.ok()) << s.status();
  const ServerConfig d;
  EXPECT_EQ(s->config.listen, "127.0.0.1:50051");
  EXPECT_EQ(s->config.queue_bytes, d.queue_bytes);
  EXPECT_EQ(s->config.max_layer_bytes, d.max_layer_bytes);
  EXPECT_EQ(s->config.max_chunk_bytes, d.max_chunk_bytes);
  EXPECT_EQ(s->config.max_message_bytes, d.max_message_bytes);
  EXPECT_EQ(s->config.transport_window_bytes, d.transport_window_bytes);
  EXPECT_EQ(s->config.buffer_cache_bytes, d.buffer_cache_bytes);
  EXPECT_EQ(s->config.max_concurrent_calls, d.max_concurrent_calls);
  EXPECT_EQ(s->config.max_call_duration, d.max_call_duration);
  EXPECT_EQ(s->config.idle_duration, d.idle_duration);
  EXPECT_EQ(s->config.stall_duration, d.stall_duration);
  EXPECT_EQ(s->config.max_tensors_per_call, d.max_tensors_per_call);
  EXPECT_EQ(s->config.metadata_bytes, d.metadata_bytes);
  EXPECT_EQ(s->config.grace, d.grace);
  EXPECT_EQ(s->config.log_calls, d.log_calls);
  EXPECT_EQ(s->config.device.kind, d.device.kind);
  EXPECT_TRUE(s->port_file.empty());
}

TEST(ServerOptionsTest, EitherSpellingAndSwitchValues) {
  absl::StatusOr<ServerStartup> s =
      Startup({"--queue_bytes=64M", "--max-call-seconds", "90", "--log-calls=false", "--device=cpu",
               "--port-file", "/tmp/p", "--max-batch=8"});
  ASSERT_TRUE(s.ok()) << s.status();
  EXPECT_EQ(s->config.queue_bytes, uint64_t{64} << 20);
  EXPECT_EQ(s->config.max_call_duration, absl::Seconds(90));
  EXPECT_FALSE(s->config.log_calls);
  EXPECT_EQ(s->port_file, "/tmp/p");
  ASSERT_EQ(s->notes.size(), 1u);
  EXPECT_NE(s->notes[0].find("--max-batch is ignored"), std::string::npos);
}

TEST(ServerOptionsTest, HostileClientLimits) {
  absl::StatusOr<ServerStartup> s =
      Startup({"--idle-seconds=5", "--stall-seconds=0.5", "--max-tensors-per-call=1000",
               "--metadata-bytes=64M"});
  ASSERT_TRUE(s.ok()) << s.status();
  EXPECT_EQ(s->config.idle_duration, absl::Seconds(5));
  EXPECT_EQ(s->config.stall_duration, absl::Milliseconds(500));
  EXPECT_EQ(s->config.max_tensors_per_call, 1000u);
  EXPECT_EQ(s->config.metadata_bytes, uint64_t{64} << 20);
  EXPECT_FALSE(Startup({"--max-tensors-per-call=0"}).ok());
  EXPECT_FALSE(Startup({"--idle-seconds=-1"}).ok());
}

TEST(ServerOptionsTest, BadValuesNameTheOption) {
  struct Case {
    std::vector<std::string> argv;
    std::string message;
  };
  const Case cases[] = {
      {{"--queue-bytes=lots"}, "--queue-bytes"},
      {{"--max-message-bytes=3G"}, "below 2G"},
      {{"--device=tpu"}, "--device must be auto, cpu, cuda or cuda:N"},
      {{"--cuda-lanes=9"}, "--cuda-lanes must be in [0, 8]"},
      {{"--max-call-seconds=-1"}, "--max-call-seconds must be in"},
      {{"--grace-seconds=nan"}, "--grace-seconds expects a number"},
      {{"--max-concurrent-calls=0"}, "--max-concurrent-calls must be in"},
      {{"extra"}, "unexpected argument 'extra'"},
      {{"--listen"}, "--listen needs a value"},
  };
  for (const Case& c : cases) {
    absl::StatusOr<ServerStartup> s = Startup(c.argv);
    ASSERT_FALSE(s.ok()) << c.argv[0];
    EXPECT_NE(std::string(s.status().message()).find(c.message), std::string::npos) << s.status();
  }
}

}  // namespace
}  // namespace htsr::server
