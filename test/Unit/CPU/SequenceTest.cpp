//===- SequenceTest.cpp - LSTM, GRU and attention sites -------------------===//
//
// LSTMs and GRUs of one to three layers, forward and backward, the backward
// site paired with the forward site and alone; attention, causal or not,
// with as many keys as queries or not, with dropout or not.
//
//===----------------------------------------------------------------------===//

#include "CPUTesting.h"

#include "kiln/Random.h"

using namespace kiln::cpu::testing;

namespace {

/// The recurrent cells that the runtime runs: their gates and the states
/// they return besides the output (h_n, and c_n for the LSTM).
struct Cell {
  const char *op;
  int64_t gates;
  std::vector<std::string> states;
  int32_t forwardKind, backwardKind;
};
const Cell kLSTM{"lstm", 4, {"h", "c"}, KILN_LSTM_FORWARD, KILN_LSTM_BACKWARD};
const Cell kGRU{"gru", 3, {"h"}, KILN_GRU_FORWARD, KILN_GRU_BACKWARD};

struct RecurrentCase {
  const Cell *cell;
  int64_t b, t, i, h, l;
};

class RecurrentTest : public CPUTest,
                      public ::testing::WithParamInterface<RecurrentCase> {};

TEST_P(RecurrentTest, ForwardAndBackwardMatchTheReference) {
  const RecurrentCase &c = GetParam();
  const Cell &cell = *c.cell;
  Shape xShape{c.b, c.t, c.i}, outShape{c.b, c.t, c.h}, state{c.l, c.b, c.h};
  Signature args{{"x", xShape}}, weightGrads;
  std::vector<Tensor> values{random(xShape)};
  std::string weightNames, weightTypes;
  for (int64_t layer = 0; layer < c.l; ++layer) {
    int64_t width = layer ? c.h : c.i;
    std::string suffix = std::to_string(layer);
    Signature layerWeights{{"wi" + suffix, {cell.gates * c.h, width}},
                           {"wh" + suffix, {cell.gates * c.h, c.h}},
                           {"bi" + suffix, {cell.gates * c.h}},
                           {"bh" + suffix, {cell.gates * c.h}}};
    for (const auto &[name, shape] : layerWeights) {
      args.push_back({name, shape});
      weightGrads.push_back({"d" + name, shape});
      values.push_back(random(shape, 0.5));
      weightNames += ", %" + name;
      weightTypes += ", " + type(shape);
    }
  }
  // kiln.<cell> %x, weights -> %out, states; kiln.<cell>_backward %x, %out,
  // states, %dout, their gradients, weights.
  std::string stateNames, stateTypes, gradNames, gradTypes;
  Signature gradients{{"dout", outShape}};
  for (const std::string &name : cell.states) {
    stateNames += ", %" + name;
    stateTypes += ", " + type(state);
    gradNames += ", %d" + name;
    gradients.push_back({"d" + name, state});
  }
  for (const auto &[name, shape] : gradients) {
    args.push_back({name, shape});
    values.push_back(random(shape));
  }
  std::string attributes = "{hidden_size = " + std::to_string(c.h) +
                           " : i64, num_layers = " + std::to_string(c.l) +
                           " : i64}";
  std::string resultNames = "%dx", resultTypes = type(xShape);
  for (const auto &[name, shape] : weightGrads) {
    resultNames += ", %" + name;
    resultTypes += ", " + type(shape);
  }
  std::string op = cell.op;
  std::string body =
      "%out" + stateNames + " = kiln." + op + " %x" + weightNames + " " +
      attributes + " : (" + type(xShape) + weightTypes + ") -> (" +
      type(outShape) + stateTypes + ")\n" + resultNames + " = kiln." + op +
      "_backward %x, %out" + stateNames + ", %dout" + gradNames + weightNames +
      " " + attributes + " : (" + type(xShape) + ", " + type(outShape) +
      stateTypes + ", " + type(outShape) + stateTypes + weightTypes + ") -> (" +
      resultTypes + ")";
  Signature results{{"out", outShape}};
  for (const std::string &name : cell.states)
    results.push_back({name, state});
  results.push_back({"dx", xShape});
  results.insert(results.end(), weightGrads.begin(), weightGrads.end());
  std::vector<Tensor> expected =
      evaluate(function(args, body, results), values);
  ASSERT_EQ(expected.size(), results.size());

  std::vector<int64_t> config{c.b, c.t, c.i, c.h, c.l};
  int64_t forward = create(cell.forwardKind, config);
  config.push_back(forward);
  int64_t paired = create(cell.backwardKind, config);
  config.back() = -1;
  int64_t alone = create(cell.backwardKind, config);

  std::vector<Buffer> inputs;
  for (const Tensor &value : values)
    inputs.emplace_back(value);
  Buffer &x = inputs.front();
  Buffer out(outShape);
  std::vector<Buffer> finalStates;
  for (size_t i = 0; i < cell.states.size(); ++i)
    finalStates.emplace_back(state);
  std::vector<Buffer *> forwardArgs{&x};
  for (int64_t i = 1; i <= 4 * c.l; ++i)
    forwardArgs.push_back(&inputs[i]);
  forwardArgs.push_back(&out);
  for (Buffer &finalState : finalStates)
    forwardArgs.push_back(&finalState);
  execute(forward, forwardArgs);
  expectClose(out, expected[0], "out");
  for (size_t i = 0; i < cell.states.size(); ++i)
    expectClose(finalStates[i], expected[1 + i], cell.states[i] + "_n");

  size_t firstResultGrad = 1 + cell.states.size();
  for (int64_t site : {paired, alone}) {
    std::string which = site == paired ? ", paired" : ", alone";
    size_t firstGradient = 1 + 4 * c.l;
    std::vector<Buffer *> backwardArgs{&x, &out};
    for (Buffer &finalState : finalStates)
      backwardArgs.push_back(&finalState);
    for (size_t i = firstGradient; i < inputs.size(); ++i)
      backwardArgs.push_back(&inputs[i]);
    for (int64_t i = 1; i <= 4 * c.l; ++i)
      backwardArgs.push_back(&inputs[i]);
    std::vector<Buffer> grads{Buffer(xShape)};
    for (const auto &[name, shape] : weightGrads)
      grads.emplace_back(shape);
    for (Buffer &grad : grads)
      backwardArgs.push_back(&grad);
    execute(site, backwardArgs);
    expectClose(grads[0], expected[firstResultGrad], "dx" + which);
    for (size_t i = 0; i < weightGrads.size(); ++i)
      expectClose(grads[i + 1], expected[firstResultGrad + 1 + i],
                  weightGrads[i].first + which);
  }
}

INSTANTIATE_TEST_SUITE_P(
    Shapes, RecurrentTest,
    ::testing::Values(RecurrentCase{&kLSTM, 2, 5, 3, 4, 1},
                      RecurrentCase{&kLSTM, 3, 4, 5, 6, 2},
                      RecurrentCase{&kLSTM, 2, 3, 4, 4, 3},
                      RecurrentCase{&kLSTM, 8, 12, 20, 32, 2},
                      RecurrentCase{&kGRU, 2, 5, 3, 4, 1},
                      RecurrentCase{&kGRU, 3, 4, 5, 6, 2},
                      RecurrentCase{&kGRU, 2, 3, 4, 4, 3},
                      RecurrentCase{&kGRU, 8, 12, 20, 32, 2}),
    [](const ::testing::TestParamInfo<RecurrentCase> &info) {
      const RecurrentCase &c = info.param;
      return std::string(c.cell->op) + "_" + std::to_string(c.b) + "x" +
             std::to_string(c.t) + "x" + std::to_string(c.i) + "_h" +
             std::to_string(c.h) + "_l" + std::to_string(c.l);
    });

struct AttentionCase {
  int64_t batch, l, s, e, ev;
  bool causal;
  double scale;
  /// Dropout of the probabilities, drawn at step kStep of site kSeed.
  double dropout = 0;
};

constexpr int64_t kStep = 7, kSeed = 11;

class AttentionTest : public CPUTest,
                      public ::testing::WithParamInterface<AttentionCase> {};

TEST_P(AttentionTest, ForwardAndBackwardMatchTheReference) {
  const AttentionCase &c = GetParam();
  Shape q{c.batch, c.l, c.e}, k{c.batch, c.s, c.e}, v{c.batch, c.s, c.ev},
      o{c.batch, c.l, c.ev};
  bool dropout = c.dropout > 0;
  std::string attributes = std::string("{causal = ") +
                           (c.causal ? "true" : "false") +
                           ", scale = " + f64(c.scale);
  std::string counter, counterType;
  if (dropout) {
    attributes += ", dropout = " + f64(c.dropout) +
                  ", seed = " + std::to_string(kSeed) + " : i64";
    counter = ", %step";
    counterType = ", tensor<i64>";
  }
  attributes += "}";
  std::string body = "%step = kiln.constant dense<" + std::to_string(kStep) +
                     "> : tensor<i64>\n" + "%o = kiln.attention %q, %k, %v" +
                     counter + " " + attributes + " : (" + type(q) + ", " +
                     type(k) + ", " + type(v) + counterType + ") -> " +
                     type(o) + "\n" +
                     "%dq, %dk, %dv = kiln.attention_backward %do, %q, %k, %v" +
                     counter + " " + attributes + " : (" + type(o) + ", " +
                     type(q) + ", " + type(k) + ", " + type(v) + counterType +
                     ") -> (" + type(q) + ", " + type(k) + ", " + type(v) + ")";
  Tensor query = random(q), key = random(k), value = random(v),
         gradient = random(o);
  std::vector<Tensor> expected =
      evaluate(function({{"q", q}, {"k", k}, {"v", v}, {"do", o}}, body,
                        {{"o", o}, {"dq", q}, {"dk", k}, {"dv", v}}),
               {query, key, value, gradient});
  ASSERT_EQ(expected.size(), 4u);

  std::vector<int64_t> config{c.batch,
                              c.l,
                              c.s,
                              c.e,
                              c.ev,
                              c.causal,
                              bits(c.scale),
                              bits(c.dropout),
                              dropout ? kSeed : 0};
  int64_t forward = create(KILN_ATTENTION_FORWARD, config);
  // Backward sites paired with the forward site (they reuse its
  // probabilities) and alone (they compute them again).
  config.push_back(forward);
  int64_t paired = create(KILN_ATTENTION_BACKWARD, config);
  config.back() = -1;
  int64_t alone = create(KILN_ATTENTION_BACKWARD, config);
  Buffer qBuffer(query), kBuffer(key), vBuffer(value), dout(gradient);
  Buffer out(o);
  int64_t step = kStep;
  // The counter goes after the inputs when there is dropout.
  auto call = [&](int64_t site, std::vector<void *> inputs,
                  std::vector<Buffer *> outputs) {
    if (dropout)
      inputs.push_back(&step);
    for (Buffer *buffer : outputs)
      inputs.push_back(buffer->data());
    kiln_rt_execute(site, inputs.data());
  };
  call(forward, {qBuffer.data(), kBuffer.data(), vBuffer.data()}, {&out});
  expectClose(out, expected[0], "out");
  for (auto [backward, how] : {std::pair(paired, " (paired)"),
                               std::pair(alone, " (alone)")}) {
    Buffer dq(q), dk(k), dv(v);
    call(backward,
         {dout.data(), qBuffer.data(), kBuffer.data(), vBuffer.data()},
         {&dq, &dk, &dv});
    expectClose(dq, expected[1], std::string("dq") + how);
    expectClose(dk, expected[2], std::string("dk") + how);
    expectClose(dv, expected[3], std::string("dv") + how);
  }
}

INSTANTIATE_TEST_SUITE_P(
    Shapes, AttentionTest,
    ::testing::Values(
        AttentionCase{3, 4, 4, 8, 8, false, 0.35355339059327373},
        AttentionCase{2, 5, 7, 6, 3, false, 0.3},
        AttentionCase{2, 6, 6, 4, 5, true, 0.5},
        AttentionCase{2, 7, 4, 8, 3, true, 0.25},
        AttentionCase{2, 3, 6, 4, 4, true, 1.0},
        AttentionCase{16, 16, 16, 32, 32, true, 0.17677669529663687},
        AttentionCase{3, 4, 4, 8, 8, false, 0.35355339059327373, 0.1},
        AttentionCase{2, 5, 7, 6, 3, false, 0.3, 0.5},
        AttentionCase{2, 7, 4, 8, 3, true, 0.25, 0.25},
        AttentionCase{16, 16, 16, 32, 32, true, 0.17677669529663687, 0.2}));

/// The forward site's dropout is kiln.dropout's: with the values the
/// identity, the output is the dropped-out probabilities, each 0 where
/// kiln_uniform(seed, step, i) < p and the probability over 1 - p elsewhere;
/// about a fraction 1 - p is kept, and without dropout the same site
/// configuration computes exactly what a site without it computes.
TEST_F(CPUTest, AttentionDropoutKeepsWhatDropoutKeeps) {
  const int64_t batch = 8, l = 16, s = 16, e = 8;
  const double p = 0.3, scale = 0.5;
  Shape q{batch, l, e}, k{batch, s, e}, v{batch, s, s}, o{batch, l, s};
  Tensor identity = Tensor::real(v, std::vector<double>(batch * s * s, 0.0));
  for (int64_t b = 0; b < batch; ++b)
    for (int64_t i = 0; i < s; ++i)
      identity.reals[(b * s + i) * s + i] = 1;
  Buffer qBuffer(random(q)), kBuffer(random(k)), vBuffer(identity);
  Buffer plain(o), dropped(o);
  auto config = [&](double dropout) {
    return std::vector<int64_t>{batch,         l,    s, e, s, 0, bits(scale),
                                bits(dropout), kSeed};
  };
  int64_t without = create(KILN_ATTENTION_FORWARD, config(0));
  int64_t with = create(KILN_ATTENTION_FORWARD, config(p));
  int64_t step = kStep;
  void *plainArgs[] = {qBuffer.data(), kBuffer.data(), vBuffer.data(),
                       plain.data()};
  void *droppedArgs[] = {qBuffer.data(), kBuffer.data(), vBuffer.data(), &step,
                         dropped.data()};
  kiln_rt_execute(without, plainArgs);
  kiln_rt_execute(with, droppedArgs);
  int64_t kept = 0;
  float factor = static_cast<float>(1 / (1 - p));
  for (int64_t i = 0; i < plain.size(); ++i) {
    bool keep = kiln_uniform(kSeed, kStep, static_cast<uint64_t>(i)) >= p;
    kept += keep;
    ASSERT_FLOAT_EQ(dropped.data()[i], keep ? plain.data()[i] * factor : 0.0f)
        << "element " << i;
  }
  double fraction = static_cast<double>(kept) / plain.size();
  // 2048 draws: the standard deviation of the fraction is 0.01.
  EXPECT_NEAR(fraction, 1 - p, 0.04);
  // The probabilities of a row sum to 1, and their expectation stays so.
  double sum = 0;
  for (int64_t i = 0; i < dropped.size(); ++i)
    sum += dropped.data()[i];
  EXPECT_NEAR(sum / (batch * l), 1.0, 0.05);
}

} // namespace
