// LoRA adapter directories: config parsing, pairing, the virtual layer's metadata and bytes,
// and the problems that become failed rows.
#include <unistd.h>

#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "reader_test_util.h"
#include "readers/checkpoint_reader.h"
#include "readers/lora_adapter.h"

namespace htsr::readers {
namespace {

using testing::FloatBytes;
using testing::Safetensors;

class LoraDir : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = (std::filesystem::temp_directory_path() /
            ("htsr_lora_" + std::to_string(::getpid()) + "_" +
             ::testing::UnitTest::GetInstance()->current_test_info()->name()))
               .string();
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  void Write(const std::string& name, const std::string& bytes) {
    std::ofstream(dir_ + "/" + name, std::ios::binary) << bytes;
  }
  // A (2 x 3) and B (4 x 2) of module "m", or only A when `with_b` is false.
  void WriteFactors(bool with_b = true, int b_cols = 2) {
    const std::vector<float> a = {1, 2, 3, 4, 5, 6};
    std::vector<float> b(4 * b_cols, 0.5f);
    std::string header =
        R"({"m.lora_A.weight":{"dtype":"F32","shape":[2,3],"data_offsets":[0,24]})";
    std::string data = FloatBytes(a);
    if (with_b) {
      header += R"(,"m.lora_B.weight":{"dtype":"F32","shape":[4,)" + std::to_string(b_cols) +
                R"(],"data_offsets":[24,)" + std::to_string(24 + 16 * b_cols) + "]}";
      data += FloatBytes(b);
    }
    header += ",\"head.weight\":{\"dtype\":\"F32\",\"shape\":[1,1],\"data_offsets\":[" +
              std::to_string(data.size()) + "," + std::to_string(data.size() + 4) + "]}}";
    data += FloatBytes({7});
    Write("adapter_model.safetensors", Safetensors(header, data));
  }
  std::string dir_;
};

TEST(LoraConfig, DefaultsAndFields) {
  auto c = ParseLoraConfig(R"({"r": 16, "lora_alpha": 32, "use_rslora": true,
      "target_modules": ["q_proj", "v_proj"], "rank_pattern": {"v_proj": 4}})");
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->r, 16);
  EXPECT_EQ(c->lora_alpha, 32);
  EXPECT_TRUE(c->use_rslora);
  EXPECT_FALSE(c->fan_in_fan_out);
  EXPECT_TRUE(ParseLoraConfig(R"({"fan_in_fan_out": true})")->fan_in_fan_out);
  EXPECT_EQ(c->target_modules.size(), 2u);
  ASSERT_EQ(c->rank_pattern.size(), 1u);
  EXPECT_EQ(c->rank_pattern[0].second, 4);
  auto d = ParseLoraConfig("{}");
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(d->r, 8);  // PEFT's defaults
  EXPECT_EQ(d->lora_alpha, 8);
  auto regex = ParseLoraConfig(R"({"target_modules": ".*attn.*"})");
  ASSERT_TRUE(regex.ok());
  EXPECT_TRUE(regex->target_modules_regex);
}

TEST(LoraConfig, RefusesWhatIsNotAConfig) {
  EXPECT_HAS(ParseLoraConfig("{r: 8").status().message(), "not valid JSON");
  EXPECT_HAS(ParseLoraConfig("[1]").status().message(), "not a JSON object");
  EXPECT_HAS(ParseLoraConfig(R"({"r": 0})").status().message(), "r is not a positive integer");
  EXPECT_HAS(ParseLoraConfig(R"({"r": 2.5})").status().message(), "r is not a positive integer");
  EXPECT_HAS(ParseLoraConfig(R"({"lora_alpha": "16"})").status().message(), "lora_alpha");
  EXPECT_HAS(ParseLoraConfig(R"({"use_rslora": 1})").status().message(), "use_rslora");
  EXPECT_HAS(ParseLoraConfig(R"({"fan_in_fan_out": "yes"})").status().message(), "fan_in_fan_out");
  EXPECT_HAS(ParseLoraConfig(R"({"target_modules": [1]})").status().message(), "target_modules");
  EXPECT_EQ(ParseLoraConfig(R"({"peft_type": "IA3"})").status().code(),
            absl::StatusCode::kUnimplemented);
}

TEST_F(LoraDir, OnePairIsOneLowRankLayerWithTheScaledFactors) {
  WriteFactors();
  Write("adapter_config.json", R"({"r": 2, "lora_alpha": 6, "target_modules": ["m"]})");
  auto reader = OpenCheckpoint(dir_);
  ASSERT_TRUE(reader.ok()) << reader.status();
  ASSERT_EQ((*reader)->Tensors().size(), 1u);  // head.weight is left out, with a note
  const TensorInfo& t = (*reader)->Tensors()[0];
  EXPECT_EQ(t.name, "m.lora_BA.weight");
  EXPECT_EQ(t.shape, (std::vector<int64_t>{4, 3}));
  EXPECT_EQ(t.low_rank, 2);
  EXPECT_DOUBLE_EQ(t.low_rank_scale, 3.0);
  ASSERT_EQ((*reader)->Notes().size(), 1u);
  EXPECT_HAS((*reader)->Notes()[0], "head.weight");
  auto view = (*reader)->Load(0);
  ASSERT_TRUE(view.ok()) << view.status();
  ASSERT_EQ(view->bytes.size(), (6 + 8) * sizeof(float));
  std::vector<float> f(14);
  std::memcpy(f.data(), view->bytes.data(), view->bytes.size());
  EXPECT_EQ(f[0], 1);
  EXPECT_EQ(f[5], 6);
  EXPECT_EQ(f[13], 0.5f);
}

TEST_F(LoraDir, RsLoraScalesBySqrtR) {
  WriteFactors();
  Write("adapter_config.json", R"({"r": 2, "lora_alpha": 4, "use_rslora": true})");
  auto reader = OpenCheckpoint(dir_);
  ASSERT_TRUE(reader.ok()) << reader.status();
  EXPECT_DOUBLE_EQ((*reader)->Tensors()[0].low_rank_scale, 4 / std::sqrt(2.0));
}

TEST_F(LoraDir, ProblemsFailTheLayerNotTheModel) {
  struct Case {
    bool with_b;
    int b_cols;
    std::string config, reason;
  } cases[] = {
      {true, 2, R"({"r": 4})", "adapter_config.json says r = 4"},
      {true, 2, R"({"r": 2, "target_modules": ["k"]})", "target_modules"},
      {true, 3, R"({"r": 2})", "inner dimensions differ"},
      {false, 2, R"({"r": 2})", "lora_B is missing"},
  };
  for (const Case& c : cases) {
    WriteFactors(c.with_b, c.b_cols);
    Write("adapter_config.json", c.config);
    auto reader = OpenCheckpoint(dir_);
    ASSERT_TRUE(reader.ok()) << reader.status();
    ASSERT_EQ((*reader)->Tensors().size(), 1u) << c.reason;
    auto view = (*reader)->Load(0);
    ASSERT_FALSE(view.ok()) << c.reason;
    EXPECT_HAS(view.status().message(), "LoRA layer m: ");
    EXPECT_HAS(view.status().message(), c.reason);
  }
}

TEST_F(LoraDir, AConfigThatIsNotJsonFailsTheModelNamingIt) {
  WriteFactors();
  Write("adapter_config.json", "r = 8");
  auto reader = OpenCheckpoint(dir_);
  ASSERT_FALSE(reader.ok());
  EXPECT_HAS(reader.status().message(), "adapter_config.json is not valid JSON");
}

TEST_F(LoraDir, NoWeightsFileIsNotFound) {
  Write("adapter_config.json", "{}");
  auto reader = OpenCheckpoint(dir_);
  EXPECT_EQ(reader.status().code(), absl::StatusCode::kNotFound);
}

}  // namespace
}  // namespace htsr::readers
