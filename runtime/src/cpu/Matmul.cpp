//===- Matmul.cpp - Batched matrix product sites --------------------------===//
//
// One oneDNN matmul per site. Transposed operands are described by their
// strides (format tag acb) rather than copied, except a transposed A that
// is worth reordering (below), and an operand shared by the whole batch by a
// batch dimension of 1, which oneDNN broadcasts.
//
//===----------------------------------------------------------------------===//

#include "cpu/Site.h"

#include <cstring>

using namespace kiln::cpu;
using namespace dnnl;

namespace {

/// C's width from which a transposed A is reordered into rows (below).
constexpr int64_t kReorderAWhenNAtLeast = 32;

/// config: batch M N K transpose_a transpose_b a_batched b_batched has_bias
/// relu. args: a b (bias) c.
class Matmul : public Site {
public:
  explicit Matmul(Config &config) {
    int64_t batch = config.size("batch"), m = config.size("M"),
            n = config.size("N"), k = config.size("K");
    bool transposeA = config.flag("transpose_a");
    bool transposeB = config.flag("transpose_b");
    bool aBatched = config.flag("a_batched");
    bool bBatched = config.flag("b_batched");
    hasBias = config.flag("has_bias");
    bool relu = config.flag("relu");

    // The batch of rows of a row-major A times one B is one taller matrix.
    if (aBatched && !bBatched && !transposeA) {
      m *= batch;
      batch = 1;
      aBatched = false;
    }
    // oneDNN broadcasts one operand only; with both shared, every matrix of
    // C is the same: compute the first and copy it.
    copies = !aBatched && !bBatched ? batch : 1;
    int64_t computed = batch / copies;
    cBytes = m * n * sizeof(float);

    memory::desc aDesc =
        f32Desc({aBatched ? batch : 1, m, k}, transposeA ? Tag::acb : Tag::abc);
    // oneDNN 2.6's sgemm runs a transposed A at about half its speed for
    // the weight gradients of linear layers (A = dy^T, K = the rows of the
    // batch): 40 against 84 GFLOP/s for 1024x4096 by 4096x256 on one AVX2
    // core. Reordering A into rows first costs a pass over it, less than
    // that unless C is narrow.
    bool rowsFirst = transposeA && n >= kReorderAWhenNAtLeast;
    // The layout of A that the product reads.
    memory::desc aProduct =
        rowsFirst ? f32Desc({aBatched ? batch : 1, m, k}, Tag::abc) : aDesc;
    memory::desc bDesc =
        f32Desc({bBatched ? batch : 1, k, n}, transposeB ? Tag::acb : Tag::abc);
    memory::desc cDesc = f32Desc({computed, m, n}, Tag::abc);
    memory::desc biasDesc = f32Desc({1, 1, n}, Tag::abc);
    matmul::desc desc = hasBias ? matmul::desc(aProduct, bDesc, biasDesc, cDesc)
                                : matmul::desc(aProduct, bDesc, cDesc);
    primitive_attr attr;
    if (relu) {
      post_ops ops;
      ops.append_eltwise(1.0f, algorithm::eltwise_relu, 0.0f, 0.0f);
      attr.set_post_ops(ops);
    }
    primitive = matmul(matmul::primitive_desc(desc, attr, cpuEngine()));
    a = Input(aDesc, aProduct);
    b = Input(bDesc);
    if (hasBias)
      bias = Input(biasDesc);
    c = Output(cDesc);
  }

  void execute(void **args) override {
    void *cData = args[hasBias ? 3 : 2];
    ExecArgs exec{{DNNL_ARG_SRC, a.bind(args[0])},
                  {DNNL_ARG_WEIGHTS, b.bind(args[1])},
                  {DNNL_ARG_DST, c.bind(cData)}};
    if (hasBias)
      exec[DNNL_ARG_BIAS] = bias.bind(args[2]);
    primitive.execute(cpuStream(), exec);
    auto *bytes = static_cast<char *>(cData);
    for (int64_t i = 1; i < copies; ++i)
      std::memcpy(bytes + i * cBytes, bytes, cBytes);
  }

private:
  bool hasBias;
  int64_t copies;
  size_t cBytes;
  matmul primitive;
  Input a, b, bias;
  Output c;
};

} // namespace

std::unique_ptr<Site> kiln::cpu::createMatmul(Config &config) {
  return std::make_unique<Matmul>(config);
}
