//===- EvaluatorTest.cpp - The evaluator's driver, data movement and math -===//
//
// Hand-computed results of the tensor and math ops, the F32 rounding, the
// conversions to and from safetensors data, and every error the driver and
// the ops report instead of crashing.
//
//===----------------------------------------------------------------------===//

#include "EvaluatorTesting.h"

#include "io/Safetensors.h"

#include "mlir/IR/BuiltinTypes.h"

#include <cmath>

using namespace kiln::reference;

namespace {

TEST_F(EvaluatorTest, ReturnsArgumentsAndResultsInOrder) {
  auto values = results(R"(
    func.func @f(%x: tensor<2xf64>, %ids: tensor<2xi64>) -> (tensor<2xi64>, tensor<2xf64>) {
      return %ids, %x : tensor<2xi64>, tensor<2xf64>
    })",
                        {real({2}, {1, 2}), integer({2}, {3, 4})});
  ASSERT_EQ(values.size(), 2u);
  expectIntegers(values[0], {2}, {3, 4});
  expectReals(values[1], {2}, {1, 2});
}

TEST_F(EvaluatorTest, F32PrecisionRoundsEveryResultToFloat) {
  const char *source = R"(
    func.func @f(%x: tensor<f32>, %y: tensor<f32>) -> tensor<f32> {
      %z = kiln.div %x, %y : (tensor<f32>, tensor<f32>) -> tensor<f32>
      return %z : tensor<f32>
    })";
  Tensor third = result(source, {real({}, {1}), real({}, {3})}, Precision::F32);
  EXPECT_EQ(third.reals[0], static_cast<double>(1.0f / 3.0f));
  Tensor exact = result(source, {real({}, {1}), real({}, {3})}, Precision::F64);
  EXPECT_EQ(exact.reals[0], 1.0 / 3.0);
}

TEST_F(EvaluatorTest, BroadcastingArithmetic) {
  auto values = results(R"(
    func.func @f(%a: tensor<2x3xf64>, %b: tensor<3xf64>, %c: tensor<2x1xf64>)
        -> (tensor<2x3xf64>, tensor<2x3xf64>, tensor<2x3xf64>, tensor<2x3xf64>) {
      %0 = kiln.add %a, %b : (tensor<2x3xf64>, tensor<3xf64>) -> tensor<2x3xf64>
      %1 = kiln.sub %a, %c : (tensor<2x3xf64>, tensor<2x1xf64>) -> tensor<2x3xf64>
      %2 = kiln.mul %c, %b : (tensor<2x1xf64>, tensor<3xf64>) -> tensor<2x3xf64>
      %3 = kiln.div %a, %b : (tensor<2x3xf64>, tensor<3xf64>) -> tensor<2x3xf64>
      return %0, %1, %2, %3 : tensor<2x3xf64>, tensor<2x3xf64>, tensor<2x3xf64>, tensor<2x3xf64>
    })",
                        {real({2, 3}, {1, 2, 3, 4, 5, 6}),
                         real({3}, {10, 20, 40}), real({2, 1}, {1, 2})});
  ASSERT_EQ(values.size(), 4u);
  expectReals(values[0], {2, 3}, {11, 22, 43, 14, 25, 46});
  expectReals(values[1], {2, 3}, {0, 1, 2, 2, 3, 4});
  expectReals(values[2], {2, 3}, {10, 20, 40, 20, 40, 80});
  expectReals(values[3], {2, 3}, {0.1, 0.1, 0.075, 0.4, 0.25, 0.15});
}

TEST_F(EvaluatorTest, UnaryFunctions) {
  auto values = results(R"(
    func.func @f(%x: tensor<3xf64>) -> (tensor<3xf64>, tensor<3xf64>, tensor<3xf64>,
        tensor<3xf64>, tensor<3xf64>, tensor<3xf64>) {
      %0 = kiln.neg %x : tensor<3xf64>
      %1 = kiln.relu %x : tensor<3xf64>
      %2 = kiln.sigmoid %x : tensor<3xf64>
      %3 = kiln.tanh %x : tensor<3xf64>
      %4 = kiln.gelu %x : tensor<3xf64>
      %5 = kiln.gelu %x {approximate = #kiln.gelu_approximation<tanh>} : tensor<3xf64>
      return %0, %1, %2, %3, %4, %5 : tensor<3xf64>, tensor<3xf64>, tensor<3xf64>,
          tensor<3xf64>, tensor<3xf64>, tensor<3xf64>
    })",
                        {real({3}, {-1, 0, 2})});
  ASSERT_EQ(values.size(), 6u);
  expectReals(values[0], {3}, {1, 0, -2});
  expectReals(values[1], {3}, {0, 0, 2});
  expectReals(values[2], {3},
              {1 / (1 + std::exp(1.0)), 0.5, 1 / (1 + std::exp(-2.0))});
  expectReals(values[3], {3}, {std::tanh(-1.0), 0, std::tanh(2.0)});
  // x * Phi(x) with Phi(-1) = 0.158655..., Phi(2) = 0.977249...
  expectReals(values[4], {3}, {-0.15865525393145707, 0, 1.9544997361036416});
  double inner = std::sqrt(2 / M_PI) * (2 + 0.044715 * 8);
  EXPECT_NEAR(values[5].reals[2], (1 + std::tanh(inner)), 1e-15);

  Tensor roots = result(R"(
    func.func @f(%x: tensor<2xf64>) -> tensor<2xf64> {
      %0 = kiln.sqrt %x : tensor<2xf64>
      %1 = kiln.log %0 : tensor<2xf64>
      %2 = kiln.exp %1 : tensor<2xf64>
      return %2 : tensor<2xf64>
    })",
                        {real({2}, {4, 9})});
  expectReals(roots, {2}, {2, 3});
}

TEST_F(EvaluatorTest, SoftmaxAndItsGradientAlongAnAxis) {
  auto values =
      results(R"(
    func.func @f(%x: tensor<2x2xf64>, %g: tensor<2x2xf64>)
        -> (tensor<2x2xf64>, tensor<2x2xf64>, tensor<2x2xf64>, tensor<2x2xf64>) {
      %s = kiln.softmax %x {axis = 0 : i64} : (tensor<2x2xf64>) -> tensor<2x2xf64>
      %l = kiln.log_softmax %x : (tensor<2x2xf64>) -> tensor<2x2xf64>
      %ds = kiln.softmax_backward %g, %s {axis = 0 : i64} : (tensor<2x2xf64>, tensor<2x2xf64>) -> tensor<2x2xf64>
      %dl = kiln.log_softmax_backward %g, %l : (tensor<2x2xf64>, tensor<2x2xf64>) -> tensor<2x2xf64>
      return %s, %l, %ds, %dl : tensor<2x2xf64>, tensor<2x2xf64>, tensor<2x2xf64>, tensor<2x2xf64>
    })",
              {real({2, 2}, {0, 1000, 0, 1000}), real({2, 2}, {1, 0, 0, 0})});
  ASSERT_EQ(values.size(), 4u);
  expectReals(values[0], {2, 2}, {0.5, 0.5, 0.5, 0.5});
  expectReals(values[1], {2, 2}, {-1000, 0, -1000, 0});
  // y * (g - sum(g * y)) down each column: 0.5 * (1 - 0.5), 0.5 * (0 - 0.5).
  expectReals(values[2], {2, 2}, {0.25, 0, -0.25, 0});
  // g - exp(y) * sum(g) along each row; exp(-1000) vanishes.
  expectReals(values[3], {2, 2}, {1, -1, 0, 0});
}

TEST_F(EvaluatorTest, ReductionsWithNegativeAxesAndKeepDims) {
  auto values = results(R"(
    func.func @f(%x: tensor<2x3xf64>) -> (tensor<2xf64>, tensor<1x3xf64>, tensor<f64>, tensor<2x1xf64>) {
      %0 = kiln.reduce_sum %x {axes = array<i64: -1>} : (tensor<2x3xf64>) -> tensor<2xf64>
      %1 = kiln.reduce_mean %x {axes = array<i64: 0>, keep_dims = true} : (tensor<2x3xf64>) -> tensor<1x3xf64>
      %2 = kiln.reduce_max %x {axes = array<i64: 1, 0>} : (tensor<2x3xf64>) -> tensor<f64>
      %3 = kiln.reduce_max %x {axes = array<i64: 1>, keep_dims = true} : (tensor<2x3xf64>) -> tensor<2x1xf64>
      return %0, %1, %2, %3 : tensor<2xf64>, tensor<1x3xf64>, tensor<f64>, tensor<2x1xf64>
    })",
                        {real({2, 3}, {1, 5, 3, -4, -2, -6})});
  ASSERT_EQ(values.size(), 4u);
  expectReals(values[0], {2}, {9, -12});
  expectReals(values[1], {1, 3}, {-1.5, 1.5, -1.5});
  expectReals(values[2], {}, {5});
  expectReals(values[3], {2, 1}, {5, -2});
}

TEST_F(EvaluatorTest, ReduceMaxGradientIsSharedByEqualMaxima) {
  auto values = results(R"(
    func.func @f(%x: tensor<2x3xf64>, %g: tensor<2xf64>, %h: tensor<1x3xf64>)
        -> (tensor<2x3xf64>, tensor<2x3xf64>) {
      %0 = kiln.reduce_max_backward %g, %x {axes = array<i64: 1>} : (tensor<2xf64>, tensor<2x3xf64>) -> tensor<2x3xf64>
      %1 = kiln.reduce_max_backward %h, %x {axes = array<i64: -2>, keep_dims = true} : (tensor<1x3xf64>, tensor<2x3xf64>) -> tensor<2x3xf64>
      return %0, %1 : tensor<2x3xf64>, tensor<2x3xf64>
    })",
                        {real({2, 3}, {1, 3, 3, 2, 0, 1}), real({2}, {6, 4}),
                         real({1, 3}, {1, 2, 3})});
  ASSERT_EQ(values.size(), 2u);
  expectReals(values[0], {2, 3}, {0, 3, 3, 4, 0, 0});
  expectReals(values[1], {2, 3}, {0, 2, 3, 1, 0, 0});
}

TEST_F(EvaluatorTest, ArgmaxTakesTheFirstOfEqualMaximaAndCountEqualCounts) {
  auto values =
      results(R"(
    func.func @f(%x: tensor<2x3xf64>, %labels: tensor<2xi64>) -> (tensor<2xi64>, tensor<1x3xi64>, tensor<i64>) {
      %0 = kiln.argmax %x {axis = 1 : i64} : (tensor<2x3xf64>) -> tensor<2xi64>
      %1 = kiln.argmax %x {axis = -2 : i64, keep_dims = true} : (tensor<2x3xf64>) -> tensor<1x3xi64>
      %2 = kiln.count_equal %0, %labels : (tensor<2xi64>, tensor<2xi64>) -> tensor<i64>
      return %0, %1, %2 : tensor<2xi64>, tensor<1x3xi64>, tensor<i64>
    })",
              {real({2, 3}, {1, 7, 7, 2, 2, 0}), integer({2}, {1, 2})});
  ASSERT_EQ(values.size(), 3u);
  expectIntegers(values[0], {2}, {1, 0});
  expectIntegers(values[1], {1, 3}, {1, 0, 0});
  expectIntegers(values[2], {}, {1});
}

TEST_F(EvaluatorTest, MatmulWithTransposesAndBroadcastBatches) {
  auto values = results(R"(
    func.func @f(%a: tensor<2x2x3xf64>, %b: tensor<3x2xf64>, %c: tensor<2x3xf64>)
        -> (tensor<2x2x2xf64>, tensor<2x2x2xf64>) {
      %0 = kiln.matmul %a, %b : (tensor<2x2x3xf64>, tensor<3x2xf64>) -> tensor<2x2x2xf64>
      %1 = kiln.matmul %a, %c {transpose_rhs = true} : (tensor<2x2x3xf64>, tensor<2x3xf64>) -> tensor<2x2x2xf64>
      return %0, %1 : tensor<2x2x2xf64>, tensor<2x2x2xf64>
    })",
                        {real({2, 2, 3}, {1, 0, 0, 0, 1, 0, 0, 0, 1, 1, 1, 1}),
                         real({3, 2}, {1, 2, 3, 4, 5, 6}),
                         real({2, 3}, {1, 3, 5, 2, 4, 6})});
  ASSERT_EQ(values.size(), 2u);
  expectReals(values[0], {2, 2, 2}, {1, 2, 3, 4, 5, 6, 9, 12});
  expectReals(values[1], {2, 2, 2}, {1, 2, 3, 4, 5, 6, 9, 12});

  Tensor transposedLhs =
      result(R"(
    func.func @f(%a: tensor<3x2xf64>, %b: tensor<3x1xf64>) -> tensor<2x1xf64> {
      %0 = kiln.matmul %a, %b {transpose_lhs = true} : (tensor<3x2xf64>, tensor<3x1xf64>) -> tensor<2x1xf64>
      return %0 : tensor<2x1xf64>
    })",
             {real({3, 2}, {1, 2, 3, 4, 5, 6}), real({3, 1}, {1, 1, 1})});
  expectReals(transposedLhs, {2, 1}, {9, 12});
}

TEST_F(EvaluatorTest, DataMovement) {
  auto values = results(
      R"(
    func.func @f(%x: tensor<2x3xf64>, %ids: tensor<2x2xi64>)
        -> (tensor<3x2xf64>, tensor<6xf64>, tensor<3x2xf64>, tensor<2x2xf64>,
            tensor<2x5xf64>, tensor<4xi64>, tensor<2x1xi64>) {
      %0 = kiln.transpose %x {permutation = array<i64: 1, 0>} : (tensor<2x3xf64>) -> tensor<3x2xf64>
      %1 = kiln.flatten %x : (tensor<2x3xf64>) -> tensor<6xf64>
      %2 = kiln.reshape %x {shape = array<i64: -1, 2>} : (tensor<2x3xf64>) -> tensor<3x2xf64>
      %3 = kiln.slice %x {offsets = array<i64: 0, 0>, sizes = array<i64: 2, 2>, strides = array<i64: 1, 2>} : (tensor<2x3xf64>) -> tensor<2x2xf64>
      %4 = kiln.concat %x, %3 {axis = -1 : i64} : (tensor<2x3xf64>, tensor<2x2xf64>) -> tensor<2x5xf64>
      %5 = kiln.reshape %ids {shape = array<i64: 4>} : (tensor<2x2xi64>) -> tensor<4xi64>
      %6 = kiln.slice %ids {offsets = array<i64: 0, 1>, sizes = array<i64: 2, 1>, strides = array<i64: 1, 1>} : (tensor<2x2xi64>) -> tensor<2x1xi64>
      return %0, %1, %2, %3, %4, %5, %6 : tensor<3x2xf64>, tensor<6xf64>, tensor<3x2xf64>,
          tensor<2x2xf64>, tensor<2x5xf64>, tensor<4xi64>, tensor<2x1xi64>
    })",
      {real({2, 3}, {1, 2, 3, 4, 5, 6}), integer({2, 2}, {7, 8, 9, 10})});
  ASSERT_EQ(values.size(), 7u);
  expectReals(values[0], {3, 2}, {1, 4, 2, 5, 3, 6});
  expectReals(values[1], {6}, {1, 2, 3, 4, 5, 6});
  expectReals(values[2], {3, 2}, {1, 2, 3, 4, 5, 6});
  expectReals(values[3], {2, 2}, {1, 3, 4, 6});
  expectReals(values[4], {2, 5}, {1, 2, 3, 1, 3, 4, 5, 6, 4, 6});
  expectIntegers(values[5], {4}, {7, 8, 9, 10});
  expectIntegers(values[6], {2, 1}, {8, 10});
}

TEST_F(EvaluatorTest, AdjointsOfBroadcastAndSlice) {
  auto values = results(R"(
    func.func @f(%x: tensor<2x1xf64>, %s: tensor<1x2xf64>) -> (tensor<3x2x2xf64>, tensor<3x4xf64>) {
      %0 = kiln.broadcast_to %x {shape = array<i64: 3, 2, 2>} : (tensor<2x1xf64>) -> tensor<3x2x2xf64>
      %1 = kiln.scatter_slice %s {offsets = array<i64: 1, 1>, strides = array<i64: 1, 2>, shape = array<i64: 3, 4>} : (tensor<1x2xf64>) -> tensor<3x4xf64>
      return %0, %1 : tensor<3x2x2xf64>, tensor<3x4xf64>
    })",
                        {real({2, 1}, {1, 2}), real({1, 2}, {8, 9})});
  ASSERT_EQ(values.size(), 2u);
  expectReals(values[0], {3, 2, 2}, {1, 1, 2, 2, 1, 1, 2, 2, 1, 1, 2, 2});
  expectReals(values[1], {3, 4}, {0, 0, 0, 0, 0, 8, 0, 9, 0, 0, 0, 0});
}

TEST_F(EvaluatorTest, EmbeddingSumsTheGradientsOfRepeatedIds) {
  auto values =
      results(R"(
    func.func @f(%ids: tensor<3xi64>, %table: tensor<3x2xf64>, %g: tensor<3x2xf64>)
        -> (tensor<3x2xf64>, tensor<4x2xf64>, tensor<3x3xf64>) {
      %0 = kiln.embedding %ids, %table : (tensor<3xi64>, tensor<3x2xf64>) -> tensor<3x2xf64>
      %1 = kiln.embedding_backward %g, %ids {num = 4 : i64} : (tensor<3x2xf64>, tensor<3xi64>) -> tensor<4x2xf64>
      %2 = kiln.one_hot %ids {num_classes = 3 : i64, element_type = f64} : (tensor<3xi64>) -> tensor<3x3xf64>
      return %0, %1, %2 : tensor<3x2xf64>, tensor<4x2xf64>, tensor<3x3xf64>
    })",
              {integer({3}, {2, 0, 2}), real({3, 2}, {1, 2, 3, 4, 5, 6}),
               real({3, 2}, {1, 10, 100, 1000, 2, 20})});
  ASSERT_EQ(values.size(), 3u);
  expectReals(values[0], {3, 2}, {5, 6, 1, 2, 5, 6});
  expectReals(values[1], {4, 2}, {100, 1000, 0, 0, 3, 30, 0, 0});
  expectReals(values[2], {3, 3}, {0, 0, 1, 1, 0, 0, 0, 0, 1});
}

TEST_F(EvaluatorTest, ConstantsAndPositionTable) {
  auto values = results(R"(
    func.func @f() -> (tensor<2xf64>, tensor<3xi64>, tensor<2x4xf64>) {
      %0 = kiln.constant dense<[0.5, -2.0]> : tensor<2xf64>
      %1 = kiln.constant dense<7> : tensor<3xi64>
      %2 = kiln.sinusoidal_positions {length = 2 : i64, dim = 4 : i64, element_type = f64} : tensor<2x4xf64>
      return %0, %1, %2 : tensor<2xf64>, tensor<3xi64>, tensor<2x4xf64>
    })",
                        {});
  ASSERT_EQ(values.size(), 3u);
  expectReals(values[0], {2}, {0.5, -2});
  expectIntegers(values[1], {3}, {7, 7, 7});
  // w_0 = 1 and w_1 = 10000^(-2/4) = 0.01.
  expectReals(values[2], {2, 4},
              {0, 1, 0, 1, std::sin(1.0), std::cos(1.0), std::sin(0.01),
               std::cos(0.01)});
}

TEST_F(EvaluatorTest, ConvertsSafetensorsData) {
  kiln::io::TensorData floats =
      kiln::io::TensorData::zeros(kiln::io::DType::F32, {2});
  floats.data<float>()[0] = 0.1f;
  floats.data<float>()[1] = -3;
  Tensor tensor = fromTensorData(floats);
  expectReals(tensor, {2}, {static_cast<double>(0.1f), -3}, 0);

  mlir::Builder builder(&context);
  kiln::io::TensorData asF64 = toTensorData(tensor, builder.getF64Type());
  EXPECT_EQ(asF64.dtype, kiln::io::DType::F64);
  EXPECT_EQ(asF64.data<double>()[0], static_cast<double>(0.1f));
  kiln::io::TensorData asF32 =
      toTensorData(real({}, {1.0 / 3}), builder.getF32Type());
  EXPECT_EQ(asF32.dtype, kiln::io::DType::F32);
  EXPECT_EQ(asF32.shape, std::vector<int64_t>{});
  EXPECT_EQ(asF32.data<float>()[0], 1.0f / 3);

  kiln::io::TensorData ids =
      toTensorData(integer({3}, {-1, 0, 1LL << 40}), builder.getI64Type());
  EXPECT_EQ(ids.dtype, kiln::io::DType::I64);
  expectIntegers(fromTensorData(ids), {3}, {-1, 0, 1LL << 40});
}

//===----------------------------------------------------------------------===//
// Errors
//===----------------------------------------------------------------------===//

constexpr const char *kIdentity = R"(
  func.func @f(%x: tensor<2x3xf64> {kiln.input = "x"}, %ids: tensor<2xi64>) -> tensor<2x3xf64> {
    return %x : tensor<2x3xf64>
  })";

TEST_F(EvaluatorTest, WrongNumberOfArguments) {
  EXPECT_NE(error(kIdentity, {real({2, 3}, {1, 2, 3, 4, 5, 6})})
                .find("expects 2 arguments, got 1"),
            std::string::npos)
      << messages;
}

TEST_F(EvaluatorTest, ArgumentOfTheWrongShape) {
  EXPECT_NE(
      error(kIdentity, {real({3, 2}, {1, 2, 3, 4, 5, 6}), integer({2}, {0, 1})})
          .find("argument 'x' has shape [3, 2] but the type's is [2, 3]"),
      std::string::npos)
      << messages;
}

TEST_F(EvaluatorTest, ArgumentOfTheWrongKind) {
  EXPECT_NE(
      error(kIdentity, {real({2, 3}, {1, 2, 3, 4, 5, 6}), real({2}, {0, 1})})
          .find("argument 'arg1' holds reals but the type is an "
                "integer tensor"),
      std::string::npos)
      << messages;
}

TEST_F(EvaluatorTest, DynamicShapes) {
  EXPECT_NE(error(R"(
    func.func @f(%x: tensor<?xf64>) -> tensor<?xf64> {
      return %x : tensor<?xf64>
    })",
                  {real({1}, {1})})
                .find("needs tensors of static shapes"),
            std::string::npos)
      << messages;
  messages.clear();
  EXPECT_NE(error(R"(
    func.func @f(%x: tensor<2xf64>) -> tensor<?xf64> {
      %0 = kiln.relu %x : tensor<2xf64>
      %1 = kiln.reshape %0 {shape = array<i64: -1>} : (tensor<2xf64>) -> tensor<?xf64>
      return %1 : tensor<?xf64>
    })",
                  {real({2}, {1, 2})})
                .find("has result type 'tensor<?xf64>'; the reference "
                      "evaluator needs static shapes"),
            std::string::npos)
      << messages;
}

TEST_F(EvaluatorTest, UnknownOpIsNamed) {
  EXPECT_NE(error(R"(
    func.func @f(%x: tensor<2xf64>) -> tensor<2xf64> {
      %0 = "test.mystery"(%x) : (tensor<2xf64>) -> tensor<2xf64>
      return %0 : tensor<2xf64>
    })",
                  {real({2}, {1, 2})})
                .find("the reference evaluator does not implement "
                      "'test.mystery'"),
            std::string::npos)
      << messages;
}

TEST_F(EvaluatorTest, IdsOutOfRange) {
  EXPECT_NE(
      error(R"(
    func.func @f(%ids: tensor<2x2xi64>, %table: tensor<3x2xf64>) -> tensor<2x2x2xf64> {
      %0 = kiln.embedding %ids, %table : (tensor<2x2xi64>, tensor<3x2xf64>) -> tensor<2x2x2xf64>
      return %0 : tensor<2x2x2xf64>
    })",
            {integer({2, 2}, {0, 1, 3, 2}), real({3, 2}, {0, 0, 0, 0, 0, 0})})
          .find("'kiln.embedding' op id 3 at position [1, 0] is outside "
                "[0, 3), the rows of the table"),
      std::string::npos)
      << messages;
  messages.clear();
  EXPECT_NE(error(R"(
    func.func @f(%ids: tensor<2xi64>) -> tensor<2x4xf32> {
      %0 = kiln.one_hot %ids {num_classes = 4 : i64} : (tensor<2xi64>) -> tensor<2x4xf32>
      return %0 : tensor<2x4xf32>
    })",
                  {integer({2}, {-1, 2})})
                .find("'kiln.one_hot' op id -1 at position [0] is outside "
                      "[0, 4)"),
            std::string::npos)
      << messages;
  messages.clear();
  EXPECT_NE(error(R"(
    func.func @f(%logits: tensor<1x2xf64>, %labels: tensor<1xi64>) -> tensor<f64> {
      %0 = kiln.cross_entropy %logits, %labels : (tensor<1x2xf64>, tensor<1xi64>) -> tensor<f64>
      return %0 : tensor<f64>
    })",
                  {real({1, 2}, {0, 0}), integer({1}, {2})})
                .find("'kiln.cross_entropy' op label 2 at position [0] is "
                      "outside [0, 2), the classes of the logits, and is not "
                      "the ignore_index -100"),
            std::string::npos)
      << messages;
  messages.clear();
  EXPECT_NE(error(R"(
    func.func @f(%logits: tensor<2x2xf64>, %labels: tensor<2xi64>) -> tensor<2x2xf64> {
      %g = kiln.constant dense<1.0> : tensor<f64>
      %0 = kiln.cross_entropy_backward %g, %logits, %labels {ignore_index = 0 : i64} : (tensor<f64>, tensor<2x2xf64>, tensor<2xi64>) -> tensor<2x2xf64>
      return %0 : tensor<2x2xf64>
    })",
                  {real({2, 2}, {0, 0, 0, 0}), integer({2}, {0, -100})})
                .find("'kiln.cross_entropy_backward' op label -100 at "
                      "position [1] is outside [0, 2), the classes of the "
                      "logits, and is not the ignore_index 0"),
            std::string::npos)
      << messages;
}

TEST_F(EvaluatorTest, RunTimeErrorsPointAtTheOp) {
  error(R"(
    func.func @f(%ids: tensor<1xi64>) -> tensor<1x2xf32> {
      %0 = kiln.one_hot %ids {num_classes = 2 : i64} : (tensor<1xi64>) -> tensor<1x2xf32> loc("model.kiln":7:9)
      return %0 : tensor<1x2xf32>
    })",
        {integer({1}, {5})});
  EXPECT_NE(messages.find("loc(\"model.kiln\":7:9): 'kiln.one_hot' op id 5"),
            std::string::npos)
      << messages;
}

TEST_F(EvaluatorTest, StepsCountFromOne) {
  EXPECT_NE(error(R"(
    func.func @f(%step: tensor<i64>, %total: tensor<i64>) -> tensor<f32> {
      %0 = kiln.learning_rate %step, %total {schedule = "constant", lr = 0.1 : f64} : (tensor<i64>, tensor<i64>) -> tensor<f32>
      return %0 : tensor<f32>
    })",
                  {integer({}, {0}), integer({}, {10})})
                .find("step counts updates from 1, got 0"),
            std::string::npos)
      << messages;
}

} // namespace
