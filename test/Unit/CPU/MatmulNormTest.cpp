//===- MatmulNormTest.cpp - Matmul, softmax and layer norm sites ----------===//
//
// Matmul with every combination of transposes, batched and shared operands,
// bias and ReLU; softmax and log-softmax along outer, middle and inner
// axes; layer normalization with and without weight.
//
//===----------------------------------------------------------------------===//

#include "CPUTesting.h"

using namespace kiln::cpu::testing;

namespace {

struct MatmulCase {
  int64_t batch, m, n, k;
  bool transposeA, transposeB, aBatched, bBatched, bias, relu;
};

std::string describe(const ::testing::TestParamInfo<MatmulCase> &info) {
  const MatmulCase &c = info.param;
  return std::to_string(c.batch) + "x" + std::to_string(c.m) + "x" +
         std::to_string(c.n) + "x" + std::to_string(c.k) +
         (c.transposeA ? "_ta" : "") + (c.transposeB ? "_tb" : "") +
         (c.aBatched ? "_abatch" : "") + (c.bBatched ? "_bbatch" : "") +
         (c.bias ? "_bias" : "") + (c.relu ? "_relu" : "");
}

class MatmulTest : public CPUTest,
                   public ::testing::WithParamInterface<MatmulCase> {};

TEST_P(MatmulTest, MatchesTheReference) {
  const MatmulCase &c = GetParam();
  Shape aShape = c.transposeA ? Shape{c.k, c.m} : Shape{c.m, c.k};
  Shape bShape = c.transposeB ? Shape{c.n, c.k} : Shape{c.k, c.n};
  if (c.aBatched)
    aShape.insert(aShape.begin(), c.batch);
  if (c.bBatched)
    bShape.insert(bShape.begin(), c.batch);
  Shape product =
      c.aBatched || c.bBatched ? Shape{c.batch, c.m, c.n} : Shape{c.m, c.n};
  Shape cShape{c.batch, c.m, c.n}, biasShape{c.n};
  std::string body = "%p = kiln.matmul %a, %b {transpose_lhs = " +
                     std::string(c.transposeA ? "true" : "false") +
                     ", transpose_rhs = " + (c.transposeB ? "true" : "false") +
                     "} : (" + type(aShape) + ", " + type(bShape) + ") -> " +
                     type(product) + "\n";
  body += "%q = kiln.broadcast_to %p {shape = " + array(cShape) + "} : (" +
          type(product) + ") -> " + type(cShape) + "\n";
  std::string last = "q";
  if (c.bias) {
    body += "%r = kiln.add %q, %bias : (" + type(cShape) + ", " +
            type(biasShape) + ") -> " + type(cShape) + "\n";
    last = "r";
  }
  if (c.relu) {
    body += "%c = kiln.relu %" + last + " : " + type(cShape);
    last = "c";
  }
  Tensor a = random(aShape), b = random(bShape), bias = random(biasShape);
  std::vector<Tensor> expected =
      evaluate(function({{"a", aShape}, {"b", bShape}, {"bias", biasShape}},
                        body, {{last, cShape}}),
               {a, b, bias});
  ASSERT_EQ(expected.size(), 1u);

  int64_t site =
      create(KILN_MATMUL, {c.batch, c.m, c.n, c.k, c.transposeA, c.transposeB,
                           c.aBatched, c.bBatched, c.bias, c.relu});
  Buffer aBuffer(a), bBuffer(b), biasBuffer(bias), result(cShape);
  if (c.bias)
    execute(site, {&aBuffer, &bBuffer, &biasBuffer, &result});
  else
    execute(site, {&aBuffer, &bBuffer, &result});
  expectClose(result, expected[0], "c");
}

std::vector<MatmulCase> matmulCases() {
  std::vector<MatmulCase> cases;
  for (int transposes = 0; transposes < 4; ++transposes)
    for (int batched = 0; batched < 4; ++batched)
      for (int epilogue = 0; epilogue < 3; ++epilogue)
        cases.push_back({3, 5, 7, 4, (transposes & 1) != 0,
                         (transposes & 2) != 0, (batched & 1) != 0,
                         (batched & 2) != 0, epilogue >= 1, epilogue == 2});
  // Sizes past oneDNN's blocking, and the folded linear layer.
  cases.push_back({2, 64, 96, 130, false, true, true, false, true, true});
  cases.push_back({4, 33, 17, 70, true, false, true, true, false, false});
  cases.push_back({1, 64, 128, 300, false, true, true, false, true, false});
  // A transposed A that the site reorders into rows first (C 32 or more
  // wide): batched, shared, and with B transposed too.
  cases.push_back({3, 20, 40, 50, true, false, true, true, false, false});
  cases.push_back({2, 48, 64, 256, true, false, false, true, true, false});
  cases.push_back({2, 24, 36, 40, true, true, true, false, true, true});
  return cases;
}

INSTANTIATE_TEST_SUITE_P(Combinations, MatmulTest,
                         ::testing::ValuesIn(matmulCases()), describe);

struct SoftmaxCase {
  int64_t outer, size, inner;
  bool log;
};

class SoftmaxTest : public CPUTest,
                    public ::testing::WithParamInterface<SoftmaxCase> {};

TEST_P(SoftmaxTest, ForwardAndBackwardMatchTheReference) {
  const SoftmaxCase &c = GetParam();
  Shape shape{c.outer, c.size, c.inner};
  std::string op = c.log ? "kiln.log_softmax" : "kiln.softmax";
  std::string body = "%y = " + op + " %x {axis = 1 : i64} : (" + type(shape) +
                     ") -> " + type(shape) + "\n" + "%dx = " + op +
                     "_backward %dy, %y {axis = 1 : i64} : (" + type(shape) +
                     ", " + type(shape) + ") -> " + type(shape);
  Tensor x = random(shape, 3.0), dy = random(shape);
  std::vector<Tensor> expected =
      evaluate(function({{"x", shape}, {"dy", shape}}, body,
                        {{"y", shape}, {"dx", shape}}),
               {x, dy});
  ASSERT_EQ(expected.size(), 2u);

  std::vector<int64_t> config{c.outer, c.size, c.inner, c.log};
  int64_t forward = create(KILN_SOFTMAX_FORWARD, config);
  int64_t backward = create(KILN_SOFTMAX_BACKWARD, config);
  Buffer xBuffer(x), dyBuffer(dy), y(shape), dx(shape);
  execute(forward, {&xBuffer, &y});
  // The backward site takes the forward's result, here the runtime's own.
  execute(backward, {&dyBuffer, &y, &dx});
  expectClose(y, expected[0], "y");
  expectClose(dx, expected[1], "dx");
}

INSTANTIATE_TEST_SUITE_P(Axes, SoftmaxTest,
                         ::testing::Values(SoftmaxCase{64, 10, 1, false},
                                           SoftmaxCase{64, 10, 1, true},
                                           SoftmaxCase{1, 7, 6, false},
                                           SoftmaxCase{1, 7, 6, true},
                                           SoftmaxCase{3, 5, 4, false},
                                           SoftmaxCase{3, 5, 4, true},
                                           SoftmaxCase{2, 300, 1, true},
                                           SoftmaxCase{5, 13, 1, false}));

struct LayerNormCase {
  int64_t rows, cols;
  double epsilon;
  bool weight;
};

class LayerNormTest : public CPUTest,
                      public ::testing::WithParamInterface<LayerNormCase> {};

TEST_P(LayerNormTest, ForwardAndBackwardMatchTheReference) {
  const LayerNormCase &c = GetParam();
  Shape shape{c.rows, c.cols}, vector{c.cols};
  std::string epsilon = "epsilon = " + f64(c.epsilon);
  std::string body;
  Signature results;
  if (c.weight) {
    body = "%y = kiln.layer_norm %x, %w, %b {" + epsilon + "} : (" +
           type(shape) + ", " + type(vector) + ", " + type(vector) + ") -> " +
           type(shape) + "\n" + "%dx, %dw, %db = kiln.layer_norm_backward " +
           "%dy, %x, %w {" + epsilon + "} : (" + type(shape) + ", " +
           type(shape) + ", " + type(vector) + ") -> (" + type(shape) + ", " +
           type(vector) + ", " + type(vector) + ")";
    results = {{"y", shape}, {"dx", shape}, {"dw", vector}, {"db", vector}};
  } else {
    body = "%y = kiln.layer_norm %x {" + epsilon + "} : (" + type(shape) +
           ") -> " + type(shape) + "\n" +
           "%dx = kiln.layer_norm_backward %dy, %x {" + epsilon + "} : (" +
           type(shape) + ", " + type(shape) + ") -> " + type(shape);
    results = {{"y", shape}, {"dx", shape}};
  }
  Tensor x = random(shape, 2.0), w = random(vector), b = random(vector),
         dy = random(shape);
  std::vector<Tensor> expected = evaluate(
      function({{"x", shape}, {"w", vector}, {"b", vector}, {"dy", shape}},
               body, results),
      {x, w, b, dy});
  ASSERT_EQ(expected.size(), results.size());

  // A forward site that keeps the statistics and one that does not (an
  // evaluation's); backward sites paired with the first (they reuse its
  // statistics) and alone (they compute them again).
  std::vector<int64_t> config{c.rows, c.cols, bits(c.epsilon), c.weight};
  auto with = [&](int64_t last) {
    std::vector<int64_t> values = config;
    values.push_back(last);
    return values;
  };
  int64_t keeping = create(KILN_LAYER_NORM_FORWARD, with(1));
  int64_t inference = create(KILN_LAYER_NORM_FORWARD, with(0));
  int64_t paired = create(KILN_LAYER_NORM_BACKWARD, with(keeping));
  int64_t alone = create(KILN_LAYER_NORM_BACKWARD, with(-1));
  Buffer xBuffer(x), wBuffer(w), bBuffer(b), dyBuffer(dy);
  for (auto [forward, how] : {std::pair(inference, " (inference)"),
                              std::pair(keeping, " (keeping)")}) {
    Buffer y(shape);
    if (c.weight)
      execute(forward, {&xBuffer, &wBuffer, &bBuffer, &y});
    else
      execute(forward, {&xBuffer, &y});
    expectClose(y, expected[0], std::string("y") + how);
  }
  for (auto [backward, how] :
       {std::pair(paired, " (paired)"), std::pair(alone, " (alone)")}) {
    Buffer dx(shape), dw(vector), db(vector);
    if (c.weight) {
      execute(backward, {&dyBuffer, &xBuffer, &wBuffer, &dx, &dw, &db});
      expectClose(dw, expected[2], std::string("dw") + how);
      expectClose(db, expected[3], std::string("db") + how);
    } else {
      execute(backward, {&dyBuffer, &xBuffer, &dx});
    }
    expectClose(dx, expected[1], std::string("dx") + how);
  }
}

INSTANTIATE_TEST_SUITE_P(Shapes, LayerNormTest,
                         ::testing::Values(LayerNormCase{6, 16, 1e-5, true},
                                           LayerNormCase{5, 33, 1e-3, false},
                                           LayerNormCase{64, 256, 1e-5, true},
                                           LayerNormCase{7, 3, 0.1, true}));

} // namespace
