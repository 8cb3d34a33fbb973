// Module: registration, dotted names, modes, gradients, counts, printing and checkpoints.
#include <doctest/doctest.h>
#include <unistd.h>

#include <filesystem>
#include <memory>
#include <sstream>
#include <string>

#include "nn/io/safetensors.h"
#include "nn/module.h"
#include "tensor/ops.h"
#include "tensor/random.h"

using namespace heed;
using namespace heed::nn;
namespace fs = std::filesystem;

namespace {

// y = x W^T + b, with weights filled with `fill` so tests can tell modules apart.
struct Affine : Module {
  Variable weight, bias;
  Affine(int64_t in, int64_t out, float fill = 1.0f) : Module("Affine") {
    weight = register_parameter("weight", full({out, in}, fill));
    bias = register_parameter("bias", zeros({out}));
  }
  std::string describe() const override {
    return "Affine(in=" + std::to_string(weight.size(1)) + ", out=" + std::to_string(weight.size(0)) + ")";
  }
};

struct Layers : Module {
  explicit Layers(int n) : Module("Layers") {
    for (int i = 0; i < n; ++i) register_module(std::to_string(i), std::make_shared<Affine>(4, 4, float(i)));
  }
};

struct Encoder : Module {
  std::shared_ptr<Layers> layers;
  Variable scale;
  Encoder() : Module("Encoder") {
    scale = register_parameter("scale", ones({4}));
    layers = register_module("layers", std::make_shared<Layers>(2));
  }
};

struct Model : Module {
  std::shared_ptr<Encoder> encoder;
  std::shared_ptr<Affine> head;
  Model(int64_t classes = 3) : Module("Model") {
    encoder = register_module("encoder", std::make_shared<Encoder>());
    head = register_module("head", std::make_shared<Affine>(4, classes));
  }
};

std::vector<std::string> names_of(const Module& m) {
  std::vector<std::string> names;
  for (const auto& [name, p] : m.named_parameters()) names.push_back(name);
  return names;
}

fs::path scratch(const std::string& name) {
  return fs::temp_directory_path() /
         ("heed_test_module_" + name + "_" + std::to_string(::getpid()) + ".safetensors");
}

}  // namespace

TEST_CASE("named_parameters gives dotted names, own parameters first, then children in registration order") {
  Model model;
  CHECK(names_of(model) == std::vector<std::string>{"encoder.scale", "encoder.layers.0.weight",
                                                    "encoder.layers.0.bias", "encoder.layers.1.weight",
                                                    "encoder.layers.1.bias", "head.weight", "head.bias"});
  auto params = model.parameters();
  REQUIRE(params.size() == 7);
  CHECK(params[0].impl() == model.encoder->scale.impl());
  CHECK(params[5].impl() == model.head->weight.impl());
  CHECK(params[6].requires_grad());
}

TEST_CASE("a child shared by two parents is listed once, under its first name") {
  struct Tied : Module {
    Tied() : Module("Tied") {
      auto shared = std::make_shared<Affine>(2, 2);
      register_module("a", shared);
      register_module("b", shared);
    }
  } tied;
  CHECK(names_of(tied) == std::vector<std::string>{"a.weight", "a.bias"});
  CHECK(tied.num_parameters() == 6);
}

TEST_CASE("train() and eval() reach every module in the tree") {
  Model model;
  model.eval();
  CHECK_FALSE(model.is_training());
  CHECK_FALSE(model.encoder->is_training());
  CHECK_FALSE(model.encoder->layers->children()[1].second->is_training());
  model.train();
  CHECK(model.encoder->layers->children()[1].second->is_training());
}

TEST_CASE("zero_grad drops every parameter's gradient") {
  Model model;
  for (const Variable& p : model.parameters()) p.set_grad(ones_like(p.value()));
  model.zero_grad();
  for (const Variable& p : model.parameters()) CHECK_FALSE(p.grad().defined());
}

TEST_CASE("num_parameters counts every element") {
  Model model;  // scale 4, two layers of 16 + 4, head 12 + 3
  CHECK(model.num_parameters() == 4 + 2 * 20 + 15);
}

TEST_CASE("printing a module shows the tree, each parameter's shape and the counts") {
  Model model;
  std::ostringstream out;
  out << model;
  CHECK(out.str() ==
        "Model                         59\n"
        "  encoder: Encoder            44\n"
        "    scale (4,)                 4\n"
        "    layers: Layers            40\n"
        "      0: Affine(in=4, out=4)  20\n"
        "        weight (4, 4)         16\n"
        "        bias (4,)              4\n"
        "      1: Affine(in=4, out=4)  20\n"
        "        weight (4, 4)         16\n"
        "        bias (4,)              4\n"
        "  head: Affine(in=4, out=3)   15\n"
        "    weight (3, 4)             12\n"
        "    bias (3,)                  3\n"
        "total parameters: 59\n");
}

TEST_CASE("registering a name twice, an empty name or a dotted name is an error that says which") {
  struct Twice : Module {
    explicit Twice(int variant) : Module("Twice") {
      register_parameter("w", ones({1}));
      if (variant == 0) register_parameter("w", ones({1}));
      if (variant == 1) register_module("w", std::make_shared<Affine>(1, 1));
      if (variant == 2) register_parameter("a.b", ones({1}));
      if (variant == 3) register_parameter("", ones({1}));
    }
  };
  CHECK_THROWS_WITH_AS(Twice(0), "Twice: a parameter named \"w\" is already registered", Error);
  CHECK_THROWS_WITH_AS(Twice(1), "Twice: \"w\" is already the name of a parameter", Error);
  CHECK_THROWS_WITH_AS(Twice(2), doctest::Contains("\"a.b\" contains a dot"), Error);
  CHECK_THROWS_WITH_AS(Twice(3), "Twice: a parameter needs a non-empty name", Error);
}

TEST_CASE("save then load restores every parameter, bit for bit") {
  Model a, b;
  Generator gen(5);
  for (const Variable& p : a.parameters()) copy_(p.value(), randn(p.shape(), gen));
  std::string path = scratch("roundtrip").string();
  a.save(path);
  b.load(path);
  for (size_t i = 0; i < a.parameters().size(); ++i)
    CHECK(equal(a.parameters()[i].value(), b.parameters()[i].value()));
  fs::remove(path);
}

TEST_CASE("load lists every shape mismatch with both shapes, and changes nothing") {
  Model small(3), big(5);
  std::string path = scratch("shapes").string();
  small.save(path);
  Tensor before = clone(big.head->weight.value());
  CHECK_THROWS_WITH_AS(big.load(path),
                       ("Module::load: " + path +
                        " into Model: shapes differ for\n"
                        "  head.weight: the file has (3, 4), the module (5, 4)\n"
                        "  head.bias: the file has (3,), the module (5,)")
                           .c_str(),
                       Error);
  CHECK(equal(big.head->weight.value(), before));
  fs::remove(path);
}

TEST_CASE("load is strict about missing and unexpected names unless told otherwise") {
  std::string path = scratch("names").string();
  save_safetensors(path,
                   {{"head.weight", full({3, 4}, 7.0f)}, {"head.bias", zeros({3})}, {"extra", zeros({1})}});
  Model model;
  CHECK_THROWS_WITH_AS(
      model.load(path),
      doctest::Contains("missing from the file: encoder.scale, encoder.layers.0.weight, "
                        "encoder.layers.0.bias, encoder.layers.1.weight, encoder.layers.1.bias"),
      Error);
  save_safetensors(path, {{"head.weight", full({3, 4}, 7.0f)},
                          {"head.bias", zeros({3})},
                          {"extra", zeros({1})},
                          {"encoder.scale", ones({4})},
                          {"encoder.layers.0.weight", ones({4, 4})},
                          {"encoder.layers.0.bias", ones({4})},
                          {"encoder.layers.1.weight", ones({4, 4})},
                          {"encoder.layers.1.bias", ones({4})}});
  CHECK_THROWS_WITH_AS(model.load(path), doctest::Contains("not in the module: extra"), Error);
  CHECK(model.head->weight.value().at({0, 0}) == 1.0f);  // unchanged by the failed loads

  model.load(path, {.strict = false});
  CHECK(model.head->weight.value().at({0, 0}) == 7.0f);
  fs::remove(path);
}

// ------------------------------------------------------------- buffers
namespace {

// A block with a causal mask (a buffer of its own) and a child with running
// statistics (a buffer one level down).
struct Stats : Module {
  Tensor running_mean;
  Stats() : Module("Stats") { running_mean = register_buffer("running_mean", zeros({4})); }
};

struct Block : Module {
  Tensor causal_mask;
  std::shared_ptr<Affine> proj;
  std::shared_ptr<Stats> stats;
  Block() : Module("Block") {
    proj = register_module("proj", std::make_shared<Affine>(4, 4));
    causal_mask = register_buffer("causal_mask", Tensor{{0, 1}, {0, 0}});
    stats = register_module("stats", std::make_shared<Stats>());
  }
};

std::vector<std::string> buffer_names(const Module& m) {
  std::vector<std::string> names;
  for (const auto& [name, b] : m.named_buffers()) names.push_back(name);
  return names;
}

}  // namespace

TEST_CASE("named_buffers gives dotted names through the children; parameters() never holds a buffer") {
  Block block;
  CHECK(buffer_names(block) == std::vector<std::string>{"causal_mask", "stats.running_mean"});
  CHECK(names_of(block) == std::vector<std::string>{"proj.weight", "proj.bias"});
  CHECK(block.parameters().size() == 2);
  CHECK(block.num_parameters() == 20);
  // The listed tensor is the registered one: an in-place change shows through.
  fill_(block.stats->running_mean, 3.0f);
  CHECK(equal(block.named_buffers()[1].second, full({4}, 3.0f)));
}

TEST_CASE("a buffer in a child shared by two parents is listed once, under its first name") {
  struct Tied : Module {
    Tied() : Module("Tied") {
      auto shared = std::make_shared<Stats>();
      register_module("a", shared);
      register_module("b", shared);
    }
  } tied;
  CHECK(buffer_names(tied) == std::vector<std::string>{"a.running_mean"});
}

TEST_CASE("buffers are saved and loaded with the parameters, in the same file") {
  Block a, b;
  fill_(a.stats->running_mean, 0.5f);
  fill_(a.causal_mask, 7.0f);
  copy_(a.proj->weight.value(), full({4, 4}, 2.0f));
  std::string path = scratch("buffers").string();
  a.save(path);

  std::vector<std::string> in_file;
  for (const auto& [name, t] : load_safetensors(path).tensors) in_file.push_back(name);
  CHECK(in_file == std::vector<std::string>{"causal_mask", "proj.bias", "proj.weight", "stats.running_mean"});

  b.load(path);
  CHECK(equal(b.stats->running_mean, full({4}, 0.5f)));
  CHECK(equal(b.causal_mask, full({2, 2}, 7.0f)));
  CHECK(equal(b.proj->weight.value(), full({4, 4}, 2.0f)));

  // A file without the buffers is missing them, for a strict load.
  save_safetensors(path, {{"proj.weight", ones({4, 4})}, {"proj.bias", ones({4})}});
  CHECK_THROWS_WITH_AS(b.load(path),
                       doctest::Contains("missing from the file: causal_mask, stats.running_mean"), Error);
  fs::remove(path);
}

TEST_CASE("printing a module shows its buffers, with no parameter count") {
  Block block;
  std::ostringstream out;
  out << block;
  CHECK(out.str() ==
        "Block                        20\n"
        "  causal_mask (2, 2) buffer\n"
        "  proj: Affine(in=4, out=4)  20\n"
        "    weight (4, 4)            16\n"
        "    bias (4,)                 4\n"
        "  stats: Stats                0\n"
        "    running_mean (4,) buffer\n"
        "total parameters: 20\n");
}

TEST_CASE("a buffer shares one namespace with parameters and children") {
  struct Clash : Module {
    explicit Clash(int variant) : Module("Clash") {
      register_parameter("w", ones({1}));
      if (variant == 0) register_buffer("w", ones({1}));
      if (variant == 1) {
        register_buffer("mask", ones({1}));
        register_buffer("mask", ones({1}));
      }
      if (variant == 2) {
        register_buffer("mask", ones({1}));
        register_module("mask", std::make_shared<Stats>());
      }
      if (variant == 3) register_buffer("empty", Tensor());
    }
  };
  CHECK_THROWS_WITH_AS(Clash(0), "Clash: \"w\" is already the name of a parameter", Error);
  CHECK_THROWS_WITH_AS(Clash(1), "Clash: a buffer named \"mask\" is already registered", Error);
  CHECK_THROWS_WITH_AS(Clash(2), "Clash: \"mask\" is already the name of a buffer", Error);
  CHECK_THROWS_WITH_AS(Clash(3), "Clash: buffer \"empty\" is an undefined tensor", Error);
}

TEST_CASE("a registered buffer is contiguous, so load can copy into it") {
  struct Strided : Module {
    Tensor table;
    Strided() : Module("Strided") {
      table = register_buffer("table", transpose(Tensor{{1, 2, 3}, {4, 5, 6}}, 0, 1));
    }
  } strided;
  CHECK(strided.table.is_contiguous());
  CHECK(equal(strided.table, Tensor{{1, 4}, {2, 5}, {3, 6}}));
}

// ------------------------------------------------------------- checkpoint errors
TEST_CASE("loading a directory is one clear heed::Error") {
  fs::path dir = fs::temp_directory_path() / ("heed_test_module_dir_" + std::to_string(::getpid()));
  fs::create_directories(dir);
  Model model;
  CHECK_THROWS_WITH_AS(
      model.load(dir.string()),
      ("load_safetensors: " + dir.string() + " is a directory, not a safetensors file").c_str(), Error);
  CHECK_THROWS_WITH_AS(
      model.load("/dev/null"),
      "load_safetensors: /dev/null is not a regular file (a device, a pipe or a socket), not a "
      "safetensors file",
      Error);
  fs::remove_all(dir);
}

TEST_CASE("a strict load names the unexpected names in the file as well as the missing ones") {
  Model model;
  std::string path = scratch("renamed").string();
  NamedTensors tensors;
  for (const auto& [name, p] : model.named_parameters())
    tensors.emplace_back(name == "head.weight" ? "classifier.weight" : name, p.value());
  save_safetensors(path, tensors);
  CHECK_THROWS_WITH_AS(
      model.load(path),
      ("Module::load: " + path +
       " into Model: missing from the file: head.weight; not in the module: classifier.weight "
       "(LoadOptions{.strict = false} loads the names that match)")
          .c_str(),
      Error);
  fs::remove(path);
}

TEST_CASE("save errors name the path given, never the temporary file; an empty path is refused as such") {
  Model model;
  fs::path missing_dir = fs::temp_directory_path() / ("heed_no_such_dir_" + std::to_string(::getpid())) / "x";
  std::string path = (missing_dir / "model.safetensors").string();
  CHECK_THROWS_WITH_AS(model.save(path),
                       ("save_safetensors: cannot create " + path + ": the directory " +
                        missing_dir.string() + " does not exist (create it first)")
                           .c_str(),
                       Error);
  try {
    model.save(path);
  } catch (const Error& e) {
    CHECK(std::string(e.what()).find(".tmp.") == std::string::npos);
  }

  fs::path dir = fs::temp_directory_path();
  CHECK_THROWS_WITH_AS(
      model.save(dir.string()),
      ("save_safetensors: " + dir.string() + " is a directory; give a file name inside it, e.g. " +
       (dir / "model.safetensors").string())
          .c_str(),
      Error);
  CHECK_THROWS_WITH_AS(
      model.save(""),
      "save_safetensors: the path is empty; give the file to write, e.g. \"model.safetensors\"", Error);
  CHECK_THROWS_WITH_AS(
      model.load(""),
      "load_safetensors: the path is empty; give the file to read, e.g. \"model.safetensors\"", Error);
}
