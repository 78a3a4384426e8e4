//===- InferTypeTest.cpp - Type inference of kiln ops from C++ builders ---===//
//
// Builders reach type inference before any verifier runs, so it must reject
// what ODS constraints would only catch later (wrong array lengths, missing
// or unranked operands) with a diagnostic instead of reading out of bounds.
//
//===----------------------------------------------------------------------===//

#include "Kiln/IR/KilnOps.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/IR/Verifier.h"

#include <gtest/gtest.h>

using namespace mlir;
using namespace kiln;

namespace {

class InferTypeTest : public ::testing::Test {
protected:
  InferTypeTest() : builder(&context), loc(builder.getUnknownLoc()) {
    context.loadDialect<KilnDialect>();
    context.allowUnregisteredDialects();
    handler = std::make_unique<ScopedDiagnosticHandler>(
        &context, [this](Diagnostic &diagnostic) {
          messages.push_back(diagnostic.str());
          return success();
        });
    module = ModuleOp::create(loc);
    builder.setInsertionPointToEnd(module->getBody());
  }

  /// A value of the given type, from a placeholder op nobody verifies.
  Value valueOf(Type type) {
    OperationState state(loc, "test.source");
    state.addTypes(type);
    return builder.create(state)->getResult(0);
  }

  RankedTensorType f32(ArrayRef<int64_t> shape) {
    return RankedTensorType::get(shape, builder.getF32Type());
  }

  /// The diagnostics reported so far, joined.
  std::string reported() const {
    std::string all;
    for (const std::string &message : messages)
      all += message + "\n";
    return all;
  }

  MLIRContext context;
  OpBuilder builder;
  Location loc;
  OwningOpRef<ModuleOp> module;
  std::unique_ptr<ScopedDiagnosticHandler> handler;
  std::vector<std::string> messages;
};

TEST_F(InferTypeTest, BuildersInferResultTypes) {
  Value image = valueOf(f32({8, 3, 32, 32}));
  Value weight = valueOf(f32({16, 3, 3, 3}));
  auto conv = Conv2DOp::create(builder, loc, image, weight, Value(),
                               /*stride=*/ArrayRef<int64_t>{2, 2},
                               /*padding=*/ArrayRef<int64_t>{1, 1},
                               /*dilation=*/ArrayRef<int64_t>{1, 1});
  EXPECT_EQ(conv.getType(), f32({8, 16, 16, 16}));
  auto pooled = MaxPool2DOp::create(builder, loc, conv, ArrayRef<int64_t>{2, 2},
                                    nullptr, ArrayRef<int64_t>{0, 0});
  EXPECT_EQ(pooled.getType(), f32({8, 16, 8, 8}));
  auto flat = ReshapeOp::create(builder, loc, pooled, ArrayRef<int64_t>{8, -1});
  EXPECT_EQ(flat.getType(), f32({8, 1024}));
  EXPECT_TRUE(succeeded(verify(*module)));
  EXPECT_EQ(reported(), "");
}

TEST_F(InferTypeTest, ArraysOfTheWrongLengthAreRejected) {
  Value image = valueOf(f32({8, 3, 32, 32}));
  Value weight = valueOf(f32({16, 3, 3, 3}));
  SmallVector<Type> types;

  Conv2DOp::Properties conv;
  conv.stride = builder.getDenseI64ArrayAttr({1});
  conv.padding = builder.getDenseI64ArrayAttr({0, 0});
  conv.dilation = builder.getDenseI64ArrayAttr({1, 1});
  EXPECT_TRUE(failed(Conv2DOp::inferReturnTypes(
      &context, loc, ValueRange{image, weight}, nullptr, &conv, {}, types)));

  MaxPool2DOp::Properties pool;
  pool.kernel = builder.getDenseI64ArrayAttr({2, 2, 2});
  pool.padding = builder.getDenseI64ArrayAttr({0, 0});
  EXPECT_TRUE(failed(MaxPool2DOp::inferReturnTypes(
      &context, loc, ValueRange{image}, nullptr, &pool, {}, types)));

  EXPECT_EQ(reported(),
            "'kiln.conv2d' op kernel, stride, padding and dilation must have 2 "
            "entries\n"
            "'kiln.max_pool2d' op kernel, stride and padding must have 2 "
            "entries\n");
}

TEST_F(InferTypeTest, MissingAndUnrankedOperandsAreRejected) {
  Value unranked = valueOf(UnrankedTensorType::get(builder.getF32Type()));
  SmallVector<Type> types;

  LinearOp::Properties linear;
  EXPECT_TRUE(failed(LinearOp::inferReturnTypes(
      &context, loc, ValueRange{unranked, unranked}, nullptr, &linear, {},
      types)));

  EmbeddingOp::Properties embedding;
  EXPECT_TRUE(failed(EmbeddingOp::inferReturnTypes(
      &context, loc, ValueRange{Value(), Value()}, nullptr, &embedding, {},
      types)));

  ConstantOp::Properties constant;
  EXPECT_TRUE(failed(ConstantOp::inferReturnTypes(
      &context, loc, ValueRange{}, nullptr, &constant, {}, types)));

  EXPECT_EQ(reported(),
            "'kiln.linear' op input must be a ranked tensor, got "
            "'tensor<*xf32>'\n"
            "'kiln.embedding' op is missing its ids operand\n"
            "'kiln.constant' op needs a value\n");
}

TEST(CompatibleTypesTest, DynamicSizesAgreeWithAnySize) {
  MLIRContext context;
  Builder b(&context);
  auto type = [&](ArrayRef<int64_t> shape, Type element) -> Type {
    return RankedTensorType::get(shape, element);
  };
  Type f32 = b.getF32Type(), f64 = b.getF64Type();
  int64_t dyn = ShapedType::kDynamic;
  EXPECT_TRUE(areCompatibleTensorTypes({type({2, 3}, f32)},
                                       {type({dyn, 3}, f32)}));
  EXPECT_TRUE(areCompatibleTensorTypes({type({dyn, 3}, f32)},
                                       {type({2, 3}, f32)}));
  EXPECT_FALSE(areCompatibleTensorTypes({type({2, 3}, f32)},
                                        {type({2, 4}, f32)}));
  EXPECT_FALSE(areCompatibleTensorTypes({type({2, 3}, f32)},
                                        {type({2, 3}, f64)}));
  EXPECT_FALSE(areCompatibleTensorTypes({type({2, 3}, f32)},
                                        {type({2, 3, 1}, f32)}));
  EXPECT_FALSE(areCompatibleTensorTypes({type({2}, f32)}, {}));
}

} // namespace
