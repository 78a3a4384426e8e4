//===- GradientCheckTest.cpp - Every adjoint rule against finite differences ===//
//
// For each differentiable op: a function applying it, a random linear
// functional of its results as the loss, the gradient that kiln-autodiff
// builds, evaluated in float64 by the reference evaluator, and central finite
// differences of the loss. The two must agree to a relative error of 1e-6.
//
// Arguments marked `kiln.param` are differentiated; `kiln.input` ones are
// held fixed (integer ids and labels, counters). `test.min` and `test.max`
// bound an argument's random values (defaults: -1 and 1 for reals, [0, max)
// for integers).
//
//===----------------------------------------------------------------------===//

#include "Kiln/IR/KilnOps.h"
#include "Kiln/Transforms/Autodiff.h"
#include "Reference/Evaluator.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/Verifier.h"
#include "mlir/Parser/Parser.h"

#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <set>

using namespace mlir;
using namespace kiln;
using reference::Tensor;

namespace {

struct GradientCase {
  const char *name;
  /// A module with one function; its results are what the loss projects.
  const char *source;
};

/// Failures name the case, not its bytes.
void PrintTo(const GradientCase &gradientCase, std::ostream *os) {
  *os << gradientCase.name;
}

/// The largest relative error accepted, norm-wise over a parameter.
constexpr double kTolerance = 1e-6;
/// How many elements of each parameter are checked by finite differences.
constexpr int kMaxProbes = 24;

class GradientCheck : public ::testing::TestWithParam<GradientCase> {
protected:
  GradientCheck() { context.loadDialect<KilnDialect, func::FuncDialect>(); }

  /// Replaces the results of `func` by one loss: sum_i sum(result_i * r_i),
  /// with each r_i a new input argument.
  void projectToLoss(func::FuncOp func) {
    Block &body = func.getBody().front();
    auto ret = cast<func::ReturnOp>(body.getTerminator());
    OpBuilder b(ret);
    Location loc = func.getLoc();
    Value loss;
    for (Value result : ret.getOperands()) {
      auto type = cast<RankedTensorType>(result.getType());
      if (!isa<FloatType>(type.getElementType()))
        continue;
      unsigned index = func.getNumArguments();
      (void)func.insertArgument(
          index, type,
          b.getDictionaryAttr(b.getNamedAttr(
              "kiln.input", b.getStringAttr("projection" + std::to_string(index)))),
          loc);
      Value term = MulOp::create(b, loc, result, body.getArgument(index));
      if (type.getRank()) {
        SmallVector<int64_t> axes;
        for (int64_t d = 0; d < type.getRank(); ++d)
          axes.push_back(d);
        term = ReduceSumOp::create(b, loc, term, axes, false);
      }
      loss = loss ? AddOp::create(b, loc, loss, term).getResult() : term;
    }
    func::ReturnOp::create(b, loc, loss);
    ret.erase();
    func.setType(FunctionType::get(&context, func.getArgumentTypes(),
                                   loss.getType()));
    func.setResultAttr(0, "kiln.output", b.getStringAttr("loss"));
  }

  /// Random values for argument `index`, within its test.min / test.max.
  Tensor randomArgument(func::FuncOp func, unsigned index) {
    auto type = cast<RankedTensorType>(func.getArgumentTypes()[index]);
    auto bound = [&](const char *name, double fallback) {
      auto attr = func.getArgAttrOfType<FloatAttr>(index, name);
      return attr ? attr.getValueAsDouble() : fallback;
    };
    std::vector<int64_t> shape(type.getShape().begin(), type.getShape().end());
    int64_t count = 1;
    for (int64_t size : shape)
      count *= size;
    if (isa<IntegerType>(type.getElementType())) {
      std::uniform_int_distribution<int64_t> dist(
          static_cast<int64_t>(bound("test.min", 0)),
          static_cast<int64_t>(bound("test.max", 1)) - 1);
      std::vector<int64_t> values(count);
      for (int64_t &v : values)
        v = dist(rng);
      return Tensor::integer(shape, values);
    }
    std::uniform_real_distribution<double> dist(bound("test.min", -1),
                                                bound("test.max", 1));
    std::vector<double> values(count);
    for (double &v : values)
      v = dist(rng);
    return Tensor::real(shape, values);
  }

  double lossAt(func::FuncOp func, ArrayRef<Tensor> args) {
    FailureOr<std::vector<Tensor>> results =
        reference::evaluate(func, args, reference::Precision::F64);
    EXPECT_TRUE(succeeded(results));
    return succeeded(results) ? results->front().reals.front() : NAN;
  }

  MLIRContext context;
  std::mt19937_64 rng{20261128};
};

TEST_P(GradientCheck, MatchesCentralDifferences) {
  const GradientCase &c = GetParam();
  OwningOpRef<ModuleOp> module =
      parseSourceString<ModuleOp>(c.source, &context);
  ASSERT_TRUE(module) << "case does not parse";
  auto func = *module->getOps<func::FuncOp>().begin();
  projectToLoss(func);
  ASSERT_TRUE(succeeded(verify(*module)));

  SmallVector<unsigned> params = parameterArguments(func);
  ASSERT_FALSE(params.empty());
  FailureOr<func::FuncOp> grad = buildGradientFunction(func, 0, params);
  ASSERT_TRUE(succeeded(grad));
  ASSERT_TRUE(succeeded(verify(*module)));

  std::vector<Tensor> args;
  for (unsigned i = 0, e = func.getNumArguments(); i < e; ++i)
    args.push_back(randomArgument(func, i));
  FailureOr<std::vector<Tensor>> analytic =
      reference::evaluate(*grad, args, reference::Precision::F64);
  ASSERT_TRUE(succeeded(analytic));

  for (auto [n, param] : llvm::enumerate(params)) {
    const Tensor &gradient = (*analytic)[1 + n];
    int64_t count = args[param].numElements();
    std::vector<int64_t> probes;
    for (int64_t i = 0; i < count; ++i)
      probes.push_back(i);
    std::shuffle(probes.begin(), probes.end(), rng);
    probes.resize(std::min<int64_t>(count, kMaxProbes));

    double diffNorm = 0, fdNorm = 0, analyticNorm = 0;
    for (int64_t i : probes) {
      double &x = args[param].reals[i];
      double saved = x, h = 1e-5 * std::max(1.0, std::abs(saved));
      x = saved + h;
      double up = lossAt(func, args);
      x = saved - h;
      double down = lossAt(func, args);
      x = saved;
      double fd = (up - down) / (2 * h);
      double an = gradient.reals[i];
      diffNorm += (fd - an) * (fd - an);
      fdNorm += fd * fd;
      analyticNorm += an * an;
    }
    double scale = std::sqrt(std::max({fdNorm, analyticNorm, 1e-24}));
    double relative = std::sqrt(diffNorm) / scale;
    EXPECT_LT(relative, kTolerance)
        << c.name << ": gradient of argument #" << param
        << " differs from finite differences (norm " << std::sqrt(fdNorm)
        << " against " << std::sqrt(analyticNorm) << ")";
  }
}

const GradientCase kCases[] = {
    // Broadcasting arithmetic: rank mismatch, size-1 dimensions on both
    // sides, scalars.
    {"add",
     R"(func.func @f(%a: tensor<2x3x4xf32> {kiln.param = "a"}, %b: tensor<3x1xf32> {kiln.param = "b"}) -> tensor<2x3x4xf32> {
       %0 = kiln.add %a, %b : (tensor<2x3x4xf32>, tensor<3x1xf32>) -> tensor<2x3x4xf32>
       return %0 : tensor<2x3x4xf32> })"},
    {"sub",
     R"(func.func @f(%a: tensor<1x4xf32> {kiln.param = "a"}, %b: tensor<3x1xf32> {kiln.param = "b"}) -> tensor<3x4xf32> {
       %0 = kiln.sub %a, %b : (tensor<1x4xf32>, tensor<3x1xf32>) -> tensor<3x4xf32>
       return %0 : tensor<3x4xf32> })"},
    {"mul",
     R"(func.func @f(%a: tensor<3x4xf32> {kiln.param = "a"}, %b: tensor<f32> {kiln.param = "b"}) -> tensor<3x4xf32> {
       %0 = kiln.mul %a, %b : (tensor<3x4xf32>, tensor<f32>) -> tensor<3x4xf32>
       %1 = kiln.mul %0, %a : (tensor<3x4xf32>, tensor<3x4xf32>) -> tensor<3x4xf32>
       return %1 : tensor<3x4xf32> })"},
    {"div",
     R"(func.func @f(%a: tensor<3x4xf32> {kiln.param = "a"}, %b: tensor<4xf32> {kiln.param = "b", test.min = 0.5 : f64, test.max = 2.0 : f64}) -> tensor<3x4xf32> {
       %0 = kiln.div %a, %b : (tensor<3x4xf32>, tensor<4xf32>) -> tensor<3x4xf32>
       return %0 : tensor<3x4xf32> })"},
    // maximum(a, a) ties everywhere: the halves must add up to 1.
    {"minimum maximum",
     R"(func.func @f(%a: tensor<3x4xf32> {kiln.param = "a"}, %b: tensor<4xf32> {kiln.param = "b"}) -> (tensor<3x4xf32>, tensor<3x4xf32>, tensor<3x4xf32>) {
       %0 = kiln.minimum %a, %b : (tensor<3x4xf32>, tensor<4xf32>) -> tensor<3x4xf32>
       %1 = kiln.maximum %b, %a : (tensor<4xf32>, tensor<3x4xf32>) -> tensor<3x4xf32>
       %2 = kiln.maximum %a, %a : (tensor<3x4xf32>, tensor<3x4xf32>) -> tensor<3x4xf32>
       return %0, %1, %2 : tensor<3x4xf32>, tensor<3x4xf32>, tensor<3x4xf32> })"},
    {"pow",
     R"(func.func @f(%a: tensor<3x4xf32> {kiln.param = "a", test.min = 0.5 : f64, test.max = 2.0 : f64}, %b: tensor<4xf32> {kiln.param = "b"}) -> tensor<3x4xf32> {
       %0 = kiln.pow %a, %b : (tensor<3x4xf32>, tensor<4xf32>) -> tensor<3x4xf32>
       return %0 : tensor<3x4xf32> })"},
    // Comparisons have no gradient; where passes its own to x and y.
    {"comparisons where",
     R"(func.func @f(%a: tensor<3x4xf32> {kiln.param = "a"}, %b: tensor<4xf32> {kiln.param = "b"}, %c: tensor<3x1xf32> {kiln.param = "c"}) -> (tensor<3x4xf32>, tensor<3x4xf32>, tensor<3x4xf32>, tensor<3x4xf32>, tensor<3x4xf32>, tensor<3x4xf32>) {
       %0 = kiln.greater %a, %b : (tensor<3x4xf32>, tensor<4xf32>) -> tensor<3x4xf32>
       %1 = kiln.less %a, %b : (tensor<3x4xf32>, tensor<4xf32>) -> tensor<3x4xf32>
       %2 = kiln.greater_equal %a, %c : (tensor<3x4xf32>, tensor<3x1xf32>) -> tensor<3x4xf32>
       %3 = kiln.less_equal %b, %c : (tensor<4xf32>, tensor<3x1xf32>) -> tensor<3x4xf32>
       %4 = kiln.equal %a, %a : (tensor<3x4xf32>, tensor<3x4xf32>) -> tensor<3x4xf32>
       %5 = kiln.not_equal %a, %b : (tensor<3x4xf32>, tensor<4xf32>) -> tensor<3x4xf32>
       %6 = kiln.where %0, %a, %c : (tensor<3x4xf32>, tensor<3x4xf32>, tensor<3x1xf32>) -> tensor<3x4xf32>
       %7 = kiln.where %2, %b, %a : (tensor<3x4xf32>, tensor<4xf32>, tensor<3x4xf32>) -> tensor<3x4xf32>
       return %1, %3, %4, %5, %6, %7 : tensor<3x4xf32>, tensor<3x4xf32>, tensor<3x4xf32>, tensor<3x4xf32>, tensor<3x4xf32>, tensor<3x4xf32> })"},
    {"neg",
     R"(func.func @f(%a: tensor<5xf32> {kiln.param = "a"}) -> tensor<5xf32> {
       %0 = kiln.neg %a : tensor<5xf32>
       return %0 : tensor<5xf32> })"},
    {"relu",
     R"(func.func @f(%a: tensor<4x5xf32> {kiln.param = "a"}) -> tensor<4x5xf32> {
       %0 = kiln.relu %a : tensor<4x5xf32>
       return %0 : tensor<4x5xf32> })"},
    {"silu",
     R"(func.func @f(%a: tensor<4x5xf32> {kiln.param = "a", test.min = -3.0 : f64, test.max = 3.0 : f64}) -> tensor<4x5xf32> {
       %0 = kiln.silu %a : tensor<4x5xf32>
       return %0 : tensor<4x5xf32> })"},
    {"abs leaky_relu elu",
     R"(func.func @f(%a: tensor<4x5xf32> {kiln.param = "a", test.min = -2.0 : f64, test.max = 2.0 : f64}) -> (tensor<4x5xf32>, tensor<4x5xf32>, tensor<4x5xf32>, tensor<4x5xf32>, tensor<4x5xf32>) {
       %0 = kiln.abs %a : tensor<4x5xf32>
       %1 = kiln.leaky_relu %a : tensor<4x5xf32>
       %2 = kiln.leaky_relu %a {negative_slope = 0.2 : f64} : tensor<4x5xf32>
       %3 = kiln.elu %a : tensor<4x5xf32>
       %4 = kiln.elu %a {alpha = 0.5 : f64} : tensor<4x5xf32>
       return %0, %1, %2, %3, %4 : tensor<4x5xf32>, tensor<4x5xf32>, tensor<4x5xf32>, tensor<4x5xf32>, tensor<4x5xf32> })"},
    // The second softplus passes x through above 1.5.
    {"softplus",
     R"(func.func @f(%a: tensor<4x5xf32> {kiln.param = "a", test.min = -3.0 : f64, test.max = 3.0 : f64}) -> (tensor<4x5xf32>, tensor<4x5xf32>) {
       %0 = kiln.softplus %a : tensor<4x5xf32>
       %1 = kiln.softplus %a {beta = 2.0 : f64, threshold = 3.0 : f64} : tensor<4x5xf32>
       return %0, %1 : tensor<4x5xf32>, tensor<4x5xf32> })"},
    {"clamp",
     R"(func.func @f(%a: tensor<4x5xf32> {kiln.param = "a"}) -> (tensor<4x5xf32>, tensor<4x5xf32>, tensor<4x5xf32>) {
       %0 = kiln.clamp %a {min = -0.5 : f64} : tensor<4x5xf32>
       %1 = kiln.clamp %a {max = 0.5 : f64} : tensor<4x5xf32>
       %2 = kiln.clamp %a {min = -0.5 : f64, max = 0.25 : f64} : tensor<4x5xf32>
       return %0, %1, %2 : tensor<4x5xf32>, tensor<4x5xf32>, tensor<4x5xf32> })"},
    {"gelu",
     R"(func.func @f(%a: tensor<4x5xf32> {kiln.param = "a", test.min = -3.0 : f64, test.max = 3.0 : f64}) -> (tensor<4x5xf32>, tensor<4x5xf32>) {
       %0 = kiln.gelu %a : tensor<4x5xf32>
       %1 = kiln.gelu %a {approximate = #kiln.gelu_approximation<tanh>} : tensor<4x5xf32>
       return %0, %1 : tensor<4x5xf32>, tensor<4x5xf32> })"},
    {"tanh sigmoid exp",
     R"(func.func @f(%a: tensor<6xf32> {kiln.param = "a"}) -> (tensor<6xf32>, tensor<6xf32>, tensor<6xf32>) {
       %0 = kiln.tanh %a : tensor<6xf32>
       %1 = kiln.sigmoid %a : tensor<6xf32>
       %2 = kiln.exp %a : tensor<6xf32>
       return %0, %1, %2 : tensor<6xf32>, tensor<6xf32>, tensor<6xf32> })"},
    {"log sqrt",
     R"(func.func @f(%a: tensor<6xf32> {kiln.param = "a", test.min = 0.2 : f64, test.max = 3.0 : f64}) -> (tensor<6xf32>, tensor<6xf32>) {
       %0 = kiln.log %a : tensor<6xf32>
       %1 = kiln.sqrt %a : tensor<6xf32>
       return %0, %1 : tensor<6xf32>, tensor<6xf32> })"},
    {"softmax",
     R"(func.func @f(%a: tensor<3x4x5xf32> {kiln.param = "a"}) -> (tensor<3x4x5xf32>, tensor<3x4x5xf32>) {
       %0 = kiln.softmax %a {axis = 1 : i64} : (tensor<3x4x5xf32>) -> tensor<3x4x5xf32>
       %1 = kiln.log_softmax %a : (tensor<3x4x5xf32>) -> tensor<3x4x5xf32>
       return %0, %1 : tensor<3x4x5xf32>, tensor<3x4x5xf32> })"},
    // Reductions: several axes, negative axes, kept dimensions.
    {"reductions",
     R"(func.func @f(%a: tensor<3x4x5xf32> {kiln.param = "a"}) -> (tensor<4xf32>, tensor<3x4x1xf32>, tensor<3x5xf32>) {
       %0 = kiln.reduce_sum %a {axes = array<i64: 0, -1>} : (tensor<3x4x5xf32>) -> tensor<4xf32>
       %1 = kiln.reduce_mean %a {axes = array<i64: 2>, keep_dims = true} : (tensor<3x4x5xf32>) -> tensor<3x4x1xf32>
       %2 = kiln.reduce_max %a {axes = array<i64: 1>} : (tensor<3x4x5xf32>) -> tensor<3x5xf32>
       return %0, %1, %2 : tensor<4xf32>, tensor<3x4x1xf32>, tensor<3x5xf32> })"},
    // Matrix products: batches that broadcast, every transpose flag.
    {"matmul",
     R"(func.func @f(%a: tensor<2x3x4xf32> {kiln.param = "a"}, %b: tensor<4x5xf32> {kiln.param = "b"}) -> tensor<2x3x5xf32> {
       %0 = kiln.matmul %a, %b : (tensor<2x3x4xf32>, tensor<4x5xf32>) -> tensor<2x3x5xf32>
       return %0 : tensor<2x3x5xf32> })"},
    {"matmul transposed",
     R"(func.func @f(%a: tensor<4x3xf32> {kiln.param = "a"}, %b: tensor<2x5x4xf32> {kiln.param = "b"}) -> (tensor<2x3x5xf32>, tensor<2x5x3xf32>) {
       %0 = kiln.matmul %a, %b {transpose_lhs = true, transpose_rhs = true} : (tensor<4x3xf32>, tensor<2x5x4xf32>) -> tensor<2x3x5xf32>
       %1 = kiln.matmul %b, %a : (tensor<2x5x4xf32>, tensor<4x3xf32>) -> tensor<2x5x3xf32>
       return %0, %1 : tensor<2x3x5xf32>, tensor<2x5x3xf32> })"},
    // Data movement.
    {"reshape flatten transpose",
     R"(func.func @f(%a: tensor<2x3x4xf32> {kiln.param = "a"}) -> (tensor<6x4xf32>, tensor<2x12xf32>, tensor<4x2x3xf32>) {
       %0 = kiln.reshape %a {shape = array<i64: 6, -1>} : (tensor<2x3x4xf32>) -> tensor<6x4xf32>
       %1 = kiln.flatten %a {start_dim = 1 : i64} : (tensor<2x3x4xf32>) -> tensor<2x12xf32>
       %2 = kiln.transpose %a {permutation = array<i64: 2, 0, 1>} : (tensor<2x3x4xf32>) -> tensor<4x2x3xf32>
       return %0, %1, %2 : tensor<6x4xf32>, tensor<2x12xf32>, tensor<4x2x3xf32> })"},
    {"concat slice",
     R"(func.func @f(%a: tensor<2x3xf32> {kiln.param = "a"}, %b: tensor<2x1xf32> {kiln.param = "b"}) -> (tensor<2x7xf32>, tensor<1x2xf32>) {
       %0 = kiln.concat %a, %b, %a {axis = 1 : i64} : (tensor<2x3xf32>, tensor<2x1xf32>, tensor<2x3xf32>) -> tensor<2x7xf32>
       %1 = kiln.slice %0 {offsets = array<i64: 1, 1>, sizes = array<i64: 1, 2>, strides = array<i64: 1, 3>} : (tensor<2x7xf32>) -> tensor<1x2xf32>
       return %0, %1 : tensor<2x7xf32>, tensor<1x2xf32> })"},
    {"broadcast_to scatter_slice",
     R"(func.func @f(%a: tensor<3x1xf32> {kiln.param = "a"}, %b: tensor<2x2xf32> {kiln.param = "b"}) -> (tensor<2x3x4xf32>, tensor<5x4xf32>) {
       %0 = kiln.broadcast_to %a {shape = array<i64: 2, 3, 4>} : (tensor<3x1xf32>) -> tensor<2x3x4xf32>
       %1 = kiln.scatter_slice %b {offsets = array<i64: 1, 0>, strides = array<i64: 2, 3>, shape = array<i64: 5, 4>} : (tensor<2x2xf32>) -> tensor<5x4xf32>
       return %0, %1 : tensor<2x3x4xf32>, tensor<5x4xf32> })"},
    // Layers.
    {"conv2d",
     R"(func.func @f(%x: tensor<2x3x7x6xf32> {kiln.param = "x"}, %w: tensor<4x3x3x2xf32> {kiln.param = "w"}, %b: tensor<4xf32> {kiln.param = "b"}) -> (tensor<2x4x4x4xf32>, tensor<2x4x3x4xf32>) {
       %0 = kiln.conv2d %x, %w, %b {stride = array<i64: 2, 2>, padding = array<i64: 1, 1>} : (tensor<2x3x7x6xf32>, tensor<4x3x3x2xf32>, tensor<4xf32>) -> tensor<2x4x4x4xf32>
       %1 = kiln.conv2d %x, %w {dilation = array<i64: 2, 2>} : (tensor<2x3x7x6xf32>, tensor<4x3x3x2xf32>) -> tensor<2x4x3x4xf32>
       return %0, %1 : tensor<2x4x4x4xf32>, tensor<2x4x3x4xf32> })"},
    {"pooling",
     R"(func.func @f(%x: tensor<2x2x6x5xf32> {kiln.param = "x"}) -> (tensor<2x2x6x5xf32>, tensor<2x2x4x3xf32>, tensor<2x2x4x3xf32>) {
       %0 = kiln.max_pool2d %x {kernel = array<i64: 3, 3>, stride = array<i64: 1, 1>, padding = array<i64: 1, 1>} : (tensor<2x2x6x5xf32>) -> tensor<2x2x6x5xf32>
       %1 = kiln.avg_pool2d %x {kernel = array<i64: 2, 2>, padding = array<i64: 1, 1>} : (tensor<2x2x6x5xf32>) -> tensor<2x2x4x3xf32>
       %2 = kiln.avg_pool2d %x {kernel = array<i64: 2, 2>, padding = array<i64: 1, 1>, count_include_pad = false} : (tensor<2x2x6x5xf32>) -> tensor<2x2x4x3xf32>
       return %0, %1, %2 : tensor<2x2x6x5xf32>, tensor<2x2x4x3xf32>, tensor<2x2x4x3xf32> })"},
    {"linear",
     R"(func.func @f(%x: tensor<2x3x4xf32> {kiln.param = "x"}, %w: tensor<5x4xf32> {kiln.param = "w"}, %b: tensor<5xf32> {kiln.param = "b"}) -> (tensor<2x3x5xf32>, tensor<2x3x5xf32>) {
       %0 = kiln.linear %x, %w, %b : (tensor<2x3x4xf32>, tensor<5x4xf32>, tensor<5xf32>) -> tensor<2x3x5xf32>
       %1 = kiln.linear %x, %w : (tensor<2x3x4xf32>, tensor<5x4xf32>) -> tensor<2x3x5xf32>
       return %0, %1 : tensor<2x3x5xf32>, tensor<2x3x5xf32> })"},
    {"layer_norm",
     R"(func.func @f(%x: tensor<2x3x4xf32> {kiln.param = "x"}, %w: tensor<4xf32> {kiln.param = "w"}, %b: tensor<4xf32> {kiln.param = "b"}, %w2: tensor<3x4xf32> {kiln.param = "w2"}) -> (tensor<2x3x4xf32>, tensor<2x3x4xf32>, tensor<2x3x4xf32>) {
       %0 = kiln.layer_norm %x, %w, %b : (tensor<2x3x4xf32>, tensor<4xf32>, tensor<4xf32>) -> tensor<2x3x4xf32>
       %1 = kiln.layer_norm %x {axis = -2 : i64, epsilon = 1.0e-3 : f64} : (tensor<2x3x4xf32>) -> tensor<2x3x4xf32>
       %2 = kiln.layer_norm %x, %w2 {axis = 1 : i64} : (tensor<2x3x4xf32>, tensor<3x4xf32>) -> tensor<2x3x4xf32>
       return %0, %1, %2 : tensor<2x3x4xf32>, tensor<2x3x4xf32>, tensor<2x3x4xf32> })"},
    {"conv2d_backward_input",
     R"(func.func @f(%g: tensor<2x3x2x2xf32> {kiln.param = "g"}, %w: tensor<3x2x3x3xf32> {kiln.param = "w"}) -> tensor<2x2x4x4xf32> {
       %0 = kiln.conv2d_backward_input %g, %w {input_shape = array<i64: 2, 2, 4, 4>, stride = array<i64: 2, 2>, padding = array<i64: 1, 1>} : (tensor<2x3x2x2xf32>, tensor<3x2x3x3xf32>) -> tensor<2x2x4x4xf32>
       return %0 : tensor<2x2x4x4xf32> })"},
    {"batch_norm",
     R"(func.func @f(%x: tensor<3x2x2x2xf32> {kiln.param = "x"}, %w: tensor<2xf32> {kiln.param = "w"}, %b: tensor<2xf32> {kiln.param = "b"},
                                   %mean: tensor<2xf32> {kiln.input = "mean"}, %var: tensor<2xf32> {kiln.input = "var", test.min = 0.5 : f64, test.max = 2.0 : f64},
                                   %n: tensor<i64> {kiln.input = "n", test.min = 0.0 : f64, test.max = 5.0 : f64}, %x1: tensor<4x3xf32> {kiln.param = "x1"})
           -> (tensor<3x2x2x2xf32>, tensor<4x3xf32>) {
       %y, %m, %v, %c = kiln.batch_norm %x, %mean, %var, %n, %w, %b : (tensor<3x2x2x2xf32>, tensor<2xf32>, tensor<2xf32>, tensor<i64>, tensor<2xf32>, tensor<2xf32>) -> (tensor<3x2x2x2xf32>, tensor<2xf32>, tensor<2xf32>, tensor<i64>)
       %m2 = kiln.constant dense<0.0> : tensor<3xf32>
       %v2 = kiln.constant dense<1.0> : tensor<3xf32>
       %y1, %m1, %v1, %c1 = kiln.batch_norm %x1, %m2, %v2, %n {epsilon = 1.0e-3 : f64} : (tensor<4x3xf32>, tensor<3xf32>, tensor<3xf32>, tensor<i64>) -> (tensor<4x3xf32>, tensor<3xf32>, tensor<3xf32>, tensor<i64>)
       return %y, %y1 : tensor<3x2x2x2xf32>, tensor<4x3xf32> })"},
    {"dropout",
     R"(func.func @f(%x: tensor<4x6xf32> {kiln.param = "x"}, %step: tensor<i64> {kiln.input = "step", test.min = 1.0 : f64, test.max = 100.0 : f64}) -> tensor<4x6xf32> {
       %0 = kiln.dropout %x, %step {p = 0.3 : f64, seed = 5 : i64} : (tensor<4x6xf32>, tensor<i64>) -> tensor<4x6xf32>
       return %0 : tensor<4x6xf32> })"},
    {"lstm", R"(func.func @f(%x: tensor<2x3x4xf32> {kiln.param = "x"},
                             %wi0: tensor<12x4xf32> {kiln.param = "wi0"}, %wh0: tensor<12x3xf32> {kiln.param = "wh0"},
                             %bi0: tensor<12xf32> {kiln.param = "bi0"}, %bh0: tensor<12xf32> {kiln.param = "bh0"},
                             %wi1: tensor<12x3xf32> {kiln.param = "wi1"}, %wh1: tensor<12x3xf32> {kiln.param = "wh1"},
                             %bi1: tensor<12xf32> {kiln.param = "bi1"}, %bh1: tensor<12xf32> {kiln.param = "bh1"})
           -> (tensor<2x3x3xf32>, tensor<2x2x3xf32>, tensor<2x2x3xf32>) {
       %out, %h, %c = kiln.lstm %x, %wi0, %wh0, %bi0, %bh0, %wi1, %wh1, %bi1, %bh1 {hidden_size = 3 : i64, num_layers = 2 : i64}
           : (tensor<2x3x4xf32>, tensor<12x4xf32>, tensor<12x3xf32>, tensor<12xf32>, tensor<12xf32>,
              tensor<12x3xf32>, tensor<12x3xf32>, tensor<12xf32>, tensor<12xf32>)
           -> (tensor<2x3x3xf32>, tensor<2x2x3xf32>, tensor<2x2x3xf32>)
       return %out, %h, %c : tensor<2x3x3xf32>, tensor<2x2x3xf32>, tensor<2x2x3xf32> })"},
    {"lstm output only",
     R"(func.func @f(%x: tensor<2x4x3xf32> {kiln.param = "x"},
                             %wi: tensor<8x3xf32> {kiln.param = "wi"}, %wh: tensor<8x2xf32> {kiln.param = "wh"},
                             %bi: tensor<8xf32> {kiln.param = "bi"}, %bh: tensor<8xf32> {kiln.param = "bh"}) -> tensor<2x4x2xf32> {
       %out, %h, %c = kiln.lstm %x, %wi, %wh, %bi, %bh {hidden_size = 2 : i64, num_layers = 1 : i64}
           : (tensor<2x4x3xf32>, tensor<8x3xf32>, tensor<8x2xf32>, tensor<8xf32>, tensor<8xf32>)
           -> (tensor<2x4x2xf32>, tensor<1x2x2xf32>, tensor<1x2x2xf32>)
       return %out : tensor<2x4x2xf32> })"},
    {"gru", R"(func.func @f(%x: tensor<2x3x4xf32> {kiln.param = "x"},
                            %wi0: tensor<9x4xf32> {kiln.param = "wi0"}, %wh0: tensor<9x3xf32> {kiln.param = "wh0"},
                            %bi0: tensor<9xf32> {kiln.param = "bi0"}, %bh0: tensor<9xf32> {kiln.param = "bh0"},
                            %wi1: tensor<9x3xf32> {kiln.param = "wi1"}, %wh1: tensor<9x3xf32> {kiln.param = "wh1"},
                            %bi1: tensor<9xf32> {kiln.param = "bi1"}, %bh1: tensor<9xf32> {kiln.param = "bh1"})
           -> (tensor<2x3x3xf32>, tensor<2x2x3xf32>) {
       %out, %h = kiln.gru %x, %wi0, %wh0, %bi0, %bh0, %wi1, %wh1, %bi1, %bh1 {hidden_size = 3 : i64, num_layers = 2 : i64}
           : (tensor<2x3x4xf32>, tensor<9x4xf32>, tensor<9x3xf32>, tensor<9xf32>, tensor<9xf32>,
              tensor<9x3xf32>, tensor<9x3xf32>, tensor<9xf32>, tensor<9xf32>)
           -> (tensor<2x3x3xf32>, tensor<2x2x3xf32>)
       return %out, %h : tensor<2x3x3xf32>, tensor<2x2x3xf32> })"},
    {"gru final state only",
     R"(func.func @f(%x: tensor<2x4x3xf32> {kiln.param = "x"},
                             %wi: tensor<6x3xf32> {kiln.param = "wi"}, %wh: tensor<6x2xf32> {kiln.param = "wh"},
                             %bi: tensor<6xf32> {kiln.param = "bi"}, %bh: tensor<6xf32> {kiln.param = "bh"}) -> tensor<1x2x2xf32> {
       %out, %h = kiln.gru %x, %wi, %wh, %bi, %bh {hidden_size = 2 : i64, num_layers = 1 : i64}
           : (tensor<2x4x3xf32>, tensor<6x3xf32>, tensor<6x2xf32>, tensor<6xf32>, tensor<6xf32>)
           -> (tensor<2x4x2xf32>, tensor<1x2x2xf32>)
       return %h : tensor<1x2x2xf32> })"},
    {"attention",
     R"(func.func @f(%q: tensor<2x3x4xf32> {kiln.param = "q"}, %k: tensor<2x5x4xf32> {kiln.param = "k"}, %v: tensor<2x5x2xf32> {kiln.param = "v"}) -> (tensor<2x3x2xf32>, tensor<2x3x2xf32>) {
       %0 = kiln.attention %q, %k, %v : (tensor<2x3x4xf32>, tensor<2x5x4xf32>, tensor<2x5x2xf32>) -> tensor<2x3x2xf32>
       %1 = kiln.attention %q, %k, %v {causal = true, scale = 0.7 : f64} : (tensor<2x3x4xf32>, tensor<2x5x4xf32>, tensor<2x5x2xf32>) -> tensor<2x3x2xf32>
       return %0, %1 : tensor<2x3x2xf32>, tensor<2x3x2xf32> })"},
    // A fixed step: the masks are fixed, and attention is differentiable.
    {"attention_dropout",
     R"(func.func @f(%q: tensor<2x3x4xf32> {kiln.param = "q"}, %k: tensor<2x5x4xf32> {kiln.param = "k"}, %v: tensor<2x5x2xf32> {kiln.param = "v"},
                     %step: tensor<i64> {kiln.input = "step", test.min = 1.0 : f64, test.max = 100.0 : f64}) -> (tensor<2x3x2xf32>, tensor<2x3x2xf32>) {
       %0 = kiln.attention %q, %k, %v, %step {dropout = 0.3 : f64, seed = 5 : i64} : (tensor<2x3x4xf32>, tensor<2x5x4xf32>, tensor<2x5x2xf32>, tensor<i64>) -> tensor<2x3x2xf32>
       %1 = kiln.attention %q, %k, %v, %step {causal = true, scale = 0.7 : f64, dropout = 0.5 : f64, seed = 9 : i64} : (tensor<2x3x4xf32>, tensor<2x5x4xf32>, tensor<2x5x2xf32>, tensor<i64>) -> tensor<2x3x2xf32>
       return %0, %1 : tensor<2x3x2xf32>, tensor<2x3x2xf32> })"},
    {"cross_entropy",
     R"(func.func @f(%x: tensor<5x4xf32> {kiln.param = "x", test.min = -3.0 : f64, test.max = 3.0 : f64}, %y: tensor<5xi64> {kiln.input = "y", test.max = 4.0 : f64}) -> tensor<f32> {
       %0 = kiln.cross_entropy %x, %y : (tensor<5x4xf32>, tensor<5xi64>) -> tensor<f32>
       return %0 : tensor<f32> })"},
    // Two of six labels are PyTorch's default ignored label, -100.
    {"cross_entropy ignore_index",
     R"(func.func @f(%x: tensor<6x4xf32> {kiln.param = "x", test.min = -3.0 : f64, test.max = 3.0 : f64}) -> tensor<f32> {
       %y = kiln.constant dense<[0, -100, 3, 2, -100, 1]> : tensor<6xi64>
       %0 = kiln.cross_entropy %x, %y : (tensor<6x4xf32>, tensor<6xi64>) -> tensor<f32>
       return %0 : tensor<f32> })"},
    // An ignored class (2, twice) with label smoothing, which spreads over
    // every class but not over the ignored rows.
    {"cross_entropy ignore_index label_smoothing",
     R"(func.func @f(%x: tensor<6x4xf32> {kiln.param = "x", test.min = -3.0 : f64, test.max = 3.0 : f64}) -> (tensor<f32>, tensor<f32>) {
       %y = kiln.constant dense<[2, 0, 1, 2, 3, 3]> : tensor<6xi64>
       %0 = kiln.cross_entropy %x, %y {ignore_index = 2 : i64, label_smoothing = 0.3 : f64} : (tensor<6x4xf32>, tensor<6xi64>) -> tensor<f32>
       %1 = kiln.cross_entropy %x, %y {label_smoothing = 1.0 : f64} : (tensor<6x4xf32>, tensor<6xi64>) -> tensor<f32>
       return %0, %1 : tensor<f32>, tensor<f32> })"},
    {"embedding",
     R"(func.func @f(%t: tensor<4x3xf32> {kiln.param = "t"}, %ids: tensor<2x5xi64> {kiln.input = "ids", test.max = 4.0 : f64}) -> tensor<2x5x3xf32> {
       %0 = kiln.embedding %ids, %t : (tensor<2x5xi64>, tensor<4x3xf32>) -> tensor<2x5x3xf32>
       return %0 : tensor<2x5x3xf32> })"},
};

INSTANTIATE_TEST_SUITE_P(
    Kiln, GradientCheck, ::testing::ValuesIn(kCases),
    [](const ::testing::TestParamInfo<GradientCase> &info) {
      std::string name;
      for (char c : std::string(info.param.name))
        name += std::isalnum(static_cast<unsigned char>(c)) ? c : '_';
      return name;
    });

/// Where finite differences cannot look: the gradient at a kink or a tie,
/// and that of rounding (zero almost everywhere, and the cast's by
/// convention), which follow PyTorch's conventions (the expected values are
/// PyTorch's).
struct KinkCase {
  const char *name;
  /// `@f(%a: tensor<Nxf32>) -> tensor<f32>`: sum(op(a)).
  const char *body;
  std::vector<double> a, expected;
};

const KinkCase kKinks[] = {
    {"abs", "%0 = kiln.abs %a : tensor<3xf32>", {0, 2, -3}, {0, 1, -1}},
    {"leaky_relu",
     "%0 = kiln.leaky_relu %a : tensor<3xf32>",
     {0, 1, -1},
     {0.01, 1, 0.01}},
    {"elu",
     "%0 = kiln.elu %a {alpha = 0.5 : f64} : tensor<3xf32>",
     {0, 1, -1},
     {0.5, 1, 0.5 * std::exp(-1.0)}},
    {"clamp",
     "%0 = kiln.clamp %a {min = -1.0 : f64, max = 1.0 : f64} : tensor<3xf32>",
     {-1, 1, 2},
     {1, 1, 0}},
    {"maximum",
     "%z = kiln.constant dense<0.0> : tensor<f32>\n"
     "%0 = kiln.maximum %a, %z : (tensor<3xf32>, tensor<f32>) -> tensor<3xf32>",
     {0, 1, -1},
     {0.5, 1, 0}},
    {"minimum",
     "%z = kiln.constant dense<0.0> : tensor<f32>\n"
     "%0 = kiln.minimum %a, %z : (tensor<3xf32>, tensor<f32>) -> tensor<3xf32>",
     {0, 1, -1},
     {0.5, 0, 1}},
    // d/da sum(a.bfloat16().float() * 1.001): the gradient of a bfloat16
    // tensor is one, so 1.001 arrives as 1.
    {"reduce_precision",
     "%c = kiln.constant dense<1.001> : tensor<3xf32>\n"
     "%r = kiln.reduce_precision %a {precision = bf16} : tensor<3xf32>\n"
     "%0 = kiln.mul %r, %c : (tensor<3xf32>, tensor<3xf32>) -> tensor<3xf32>",
     {0.3, 1.7, -2},
     {1, 1, 1}},
    {"pow base",
     "%z = kiln.constant dense<0.0> : tensor<f32>\n"
     "%0 = kiln.pow %a, %z : (tensor<3xf32>, tensor<f32>) -> tensor<3xf32>",
     {0, 2, 0},
     {0, 0, 0}},
    {"pow exponent",
     "%z = kiln.constant dense<0.0> : tensor<f32>\n"
     "%0 = kiln.pow %z, %a : (tensor<f32>, tensor<3xf32>) -> tensor<3xf32>",
     {0, 1, 2},
     {0, 0, 0}},
};

TEST(GradientKinks, FollowPyTorch) {
  MLIRContext context;
  context.loadDialect<KilnDialect, func::FuncDialect>();
  for (const KinkCase &c : kKinks) {
    std::string source =
        std::string("func.func @f(%a: tensor<3xf32> {kiln.param = \"a\"}) -> "
                    "(tensor<f32> {kiln.output = \"loss\"}) {\n") +
        c.body +
        "\n%1 = kiln.reduce_sum %0 {axes = array<i64: 0>} : (tensor<3xf32>) "
        "-> tensor<f32>\nreturn %1 : tensor<f32> }";
    OwningOpRef<ModuleOp> module =
        parseSourceString<ModuleOp>(source, &context);
    ASSERT_TRUE(module) << c.name << " does not parse";
    auto func = *module->getOps<func::FuncOp>().begin();
    FailureOr<func::FuncOp> grad = buildGradientFunction(func, 0, {0});
    ASSERT_TRUE(succeeded(grad)) << c.name;
    FailureOr<std::vector<Tensor>> results = reference::evaluate(
        *grad, {Tensor::real({3}, c.a)}, reference::Precision::F64);
    ASSERT_TRUE(succeeded(results)) << c.name;
    for (size_t i = 0; i < c.a.size(); ++i)
      EXPECT_NEAR((*results)[1].reals[i], c.expected[i], 1e-7)
          << c.name << " at " << c.a[i];
  }
}

/// A new differentiable op must come with a case above: a finite-difference
/// check, or a kink case where finite differences cannot see its gradient.
TEST(GradientCoverage, EveryDifferentiableOpHasACase) {
  MLIRContext context;
  context.loadDialect<KilnDialect, func::FuncDialect>();
  std::set<std::string> covered;
  auto cover = [&](const char *name, const std::string &source) {
    OwningOpRef<ModuleOp> module =
        parseSourceString<ModuleOp>(source, &context);
    ASSERT_TRUE(module) << name << " does not parse";
    module->walk([&](Operation *op) {
      covered.insert(op->getName().getStringRef().str());
    });
  };
  for (const GradientCase &c : kCases)
    cover(c.name, c.source);
  for (const KinkCase &c : kKinks)
    cover(c.name, std::string("func.func @f(%a: tensor<3xf32>) {\n") + c.body +
                      "\nreturn }");
  for (RegisteredOperationName name : context.getRegisteredOperations())
    if (name.hasInterface<DifferentiableOpInterface>())
      EXPECT_TRUE(covered.count(name.getStringRef().str()))
          << name.getStringRef().str() << " has no gradient check";
}

} // namespace
