//===- SequenceTest.cpp - LSTM and attention sites ------------------------===//
//
// LSTMs of one to three layers, forward and backward, the backward site
// paired with the forward site and alone; attention, causal or not, with
// as many keys as queries or not, with dropout or not.
//
//===----------------------------------------------------------------------===//

#include "CPUTesting.h"

#include "kiln/Random.h"

using namespace kiln::cpu::testing;

namespace {

struct LSTMCase {
  int64_t b, t, i, h, l;
};

class LSTMTest : public CPUTest,
                 public ::testing::WithParamInterface<LSTMCase> {};

TEST_P(LSTMTest, ForwardAndBackwardMatchTheReference) {
  const LSTMCase &c = GetParam();
  Shape xShape{c.b, c.t, c.i}, outShape{c.b, c.t, c.h}, state{c.l, c.b, c.h};
  Signature args{{"x", xShape}}, weightGrads;
  std::vector<Tensor> values{random(xShape)};
  std::string weightNames, weightTypes;
  for (int64_t layer = 0; layer < c.l; ++layer) {
    int64_t width = layer ? c.h : c.i;
    std::string suffix = std::to_string(layer);
    Signature layerWeights{{"wi" + suffix, {4 * c.h, width}},
                           {"wh" + suffix, {4 * c.h, c.h}},
                           {"bi" + suffix, {4 * c.h}},
                           {"bh" + suffix, {4 * c.h}}};
    for (const auto &[name, shape] : layerWeights) {
      args.push_back({name, shape});
      weightGrads.push_back({"d" + name, shape});
      values.push_back(random(shape, 0.5));
      weightNames += ", %" + name;
      weightTypes += ", " + type(shape);
    }
  }
  Signature gradients{{"dout", outShape}, {"dh", state}, {"dc", state}};
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
  std::string body =
      "%out, %h, %c = kiln.lstm %x" + weightNames + " " + attributes + " : (" +
      type(xShape) + weightTypes + ") -> (" + type(outShape) + ", " +
      type(state) + ", " + type(state) + ")\n" + resultNames +
      " = kiln.lstm_backward %x, %out, %h, %c, %dout, %dh, %dc" + weightNames +
      " " + attributes + " : (" + type(xShape) + ", " + type(outShape) + ", " +
      type(state) + ", " + type(state) + ", " + type(outShape) + ", " +
      type(state) + ", " + type(state) + weightTypes + ") -> (" + resultTypes +
      ")";
  Signature results{
      {"out", outShape}, {"h", state}, {"c", state}, {"dx", xShape}};
  results.insert(results.end(), weightGrads.begin(), weightGrads.end());
  std::vector<Tensor> expected =
      evaluate(function(args, body, results), values);
  ASSERT_EQ(expected.size(), results.size());

  std::vector<int64_t> config{c.b, c.t, c.i, c.h, c.l};
  int64_t forward = create(KILN_LSTM_FORWARD, config);
  config.push_back(forward);
  int64_t paired = create(KILN_LSTM_BACKWARD, config);
  config.back() = -1;
  int64_t alone = create(KILN_LSTM_BACKWARD, config);

  std::vector<Buffer> inputs;
  for (const Tensor &value : values)
    inputs.emplace_back(value);
  Buffer &x = inputs.front();
  Buffer out(outShape), hN(state), cN(state);
  std::vector<Buffer *> forwardArgs{&x};
  for (int64_t i = 1; i <= 4 * c.l; ++i)
    forwardArgs.push_back(&inputs[i]);
  forwardArgs.insert(forwardArgs.end(), {&out, &hN, &cN});
  execute(forward, forwardArgs);
  expectClose(out, expected[0], "out");
  expectClose(hN, expected[1], "h_n");
  expectClose(cN, expected[2], "c_n");

  for (int64_t site : {paired, alone}) {
    std::string which = site == paired ? ", paired" : ", alone";
    size_t firstGradient = 1 + 4 * c.l;
    std::vector<Buffer *> backwardArgs{&x, &out, &hN, &cN};
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
    expectClose(grads[0], expected[3], "dx" + which);
    for (size_t i = 0; i < weightGrads.size(); ++i)
      expectClose(grads[i + 1], expected[4 + i], weightGrads[i].first + which);
  }
}

INSTANTIATE_TEST_SUITE_P(Shapes, LSTMTest,
                         ::testing::Values(LSTMCase{2, 5, 3, 4, 1},
                                           LSTMCase{3, 4, 5, 6, 2},
                                           LSTMCase{2, 3, 4, 4, 3},
                                           LSTMCase{8, 12, 20, 32, 2}));

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
