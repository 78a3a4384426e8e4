//===- MaxPool.cpp - 2-D max pooling and its gradient, vectorized ---------===//
//
// oneDNN 2.6's max pooling runs at a fraction of memory speed without
// AVX-512: on the AVX2 machine here, its JIT kernel took 4.4 ms forward and
// 3.1 ms backward for a 64x32x28x28 input in nChw8c, one thread; these loops
// take 0.7 and 1.2 ms, with the same results. Each window's maximum is the
// first largest value in row-major order within the window, or its first
// NaN, as kiln's reference evaluator chooses it (PyTorch takes the same but
// for its last NaN); its position in the window is the workspace that the
// gradient routes dy by.
//
//===----------------------------------------------------------------------===//

#include "cpu/Runtime.h"
#include "cpu/Site.h"

#include <algorithm>
#include <cstring>

using namespace kiln::cpu;

namespace {

/// The clipped extent [begin, end) of window `index` along one dimension.
struct Span {
  int64_t start, begin, end;
  Span(int64_t index, int64_t stride, int64_t pad, int64_t kernel, int64_t size)
      : start(index * stride - pad), begin(std::max<int64_t>(start, 0)),
        end(std::min(start + kernel, size)) {}
};

struct Job {
  const MaxPoolGeometry &g;
  const float *x;
  float *y;
  int32_t *argmax; // null: no workspace (inference)
};

/// One output row of one plane: the maximum and its position in each window,
/// for the `Lanes` channels of a position at once.
template <int64_t Lanes>
void forwardRow(const MaxPoolGeometry &g, const float *x, float *y,
                int32_t *argmax, int64_t oh) {
  Span rows(oh, g.sh, g.ph, g.kh, g.h);
  for (int64_t ow = 0; ow < g.ow; ++ow) {
    Span cols(ow, g.sw, g.pw, g.kw, g.w);
    float best[Lanes];
    int32_t where[Lanes];
    const float *first = x + (rows.begin * g.w + cols.begin) * Lanes;
    auto firstPosition = static_cast<int32_t>((rows.begin - rows.start) * g.kw +
                                              cols.begin - cols.start);
    for (int64_t lane = 0; lane < Lanes; ++lane) {
      best[lane] = first[lane];
      where[lane] = firstPosition;
    }
    for (int64_t ih = rows.begin; ih < rows.end; ++ih) {
      for (int64_t iw = ih == rows.begin ? cols.begin + 1 : cols.begin;
           iw < cols.end; ++iw) {
        const float *value = x + (ih * g.w + iw) * Lanes;
        auto position =
            static_cast<int32_t>((ih - rows.start) * g.kw + iw - cols.start);
        for (int64_t lane = 0; lane < Lanes; ++lane) {
          // Greater, or a NaN after numbers: !(value <= best) unless best is
          // a NaN already. Without short-circuits, so that it vectorizes.
          bool wins = !(value[lane] <= best[lane]) & (best[lane] == best[lane]);
          best[lane] = wins ? value[lane] : best[lane];
          where[lane] = wins ? position : where[lane];
        }
      }
    }
    std::memcpy(y + ow * Lanes, best, sizeof(best));
    if (argmax)
      std::memcpy(argmax + ow * Lanes, where, sizeof(where));
  }
}

/// Items: (plane, output row) pairs.
template <int64_t Lanes>
void forwardRows(void *context, int64_t begin, int64_t end) {
  const Job &job = *static_cast<const Job *>(context);
  const MaxPoolGeometry &g = job.g;
  for (int64_t item = begin; item < end; ++item) {
    int64_t plane = item / g.oh, oh = item % g.oh;
    int64_t out = (plane * g.oh + oh) * g.ow * Lanes;
    forwardRow<Lanes>(g, job.x + plane * g.h * g.w * Lanes, job.y + out,
                      job.argmax ? job.argmax + out : nullptr, oh);
  }
}

struct GradientJob {
  const MaxPoolGeometry &g;
  const float *dy;
  const int32_t *argmax;
  float *dx;
};

/// Adds (or, where windows tile the input exactly, stores) each window's dy
/// at its maximum's position and 0 at the others, for output row `oh`.
template <int64_t Lanes, bool Tiles>
void backwardRow(const MaxPoolGeometry &g, const float *dy,
                 const int32_t *argmax, float *dx, int64_t oh) {
  Span rows(oh, g.sh, g.ph, g.kh, g.h);
  for (int64_t ow = 0; ow < g.ow; ++ow) {
    Span cols(ow, g.sw, g.pw, g.kw, g.w);
    const float *gradient = dy + ow * Lanes;
    const int32_t *where = argmax + ow * Lanes;
    for (int64_t ih = rows.begin; ih < rows.end; ++ih) {
      for (int64_t iw = cols.begin; iw < cols.end; ++iw) {
        auto position =
            static_cast<int32_t>((ih - rows.start) * g.kw + iw - cols.start);
        // Into a local array first, which nothing aliases, so that both
        // loops vectorize; the loads are unconditional for the same reason.
        float routed[Lanes];
        for (int64_t lane = 0; lane < Lanes; ++lane) {
          float value = gradient[lane];
          routed[lane] = where[lane] == position ? value : 0.0f;
        }
        float *target = dx + (ih * g.w + iw) * Lanes;
        if (Tiles) {
          std::memcpy(target, routed, sizeof(routed));
        } else {
          for (int64_t lane = 0; lane < Lanes; ++lane)
            target[lane] += routed[lane];
        }
      }
    }
  }
}

/// Windows that tile the input exactly: every input position is in one
/// window, so each is stored once and nothing needs zeroing.
bool tiles(const MaxPoolGeometry &g) {
  return g.kh == g.sh && g.kw == g.sw && g.ph == 0 && g.pw == 0 &&
         g.h == g.oh * g.sh && g.w == g.ow * g.sw;
}

/// Items: (plane, output row) pairs when rows of windows do not overlap (each
/// item zeroes and fills its own band of input rows), else whole planes.
template <int64_t Lanes>
void backwardItems(void *context, int64_t begin, int64_t end) {
  const GradientJob &job = *static_cast<const GradientJob *>(context);
  const MaxPoolGeometry &g = job.g;
  bool byRows = g.sh >= g.kh;
  int64_t rowsPerItem = byRows ? g.oh : 1;
  bool exact = tiles(g);
  for (int64_t item = begin; item < end; ++item) {
    int64_t plane = item / rowsPerItem;
    int64_t firstRow = byRows ? item % rowsPerItem : 0;
    int64_t lastRow = byRows ? firstRow + 1 : g.oh;
    const float *dy = job.dy + plane * g.oh * g.ow * Lanes;
    const int32_t *argmax = job.argmax + plane * g.oh * g.ow * Lanes;
    float *dx = job.dx + plane * g.h * g.w * Lanes;
    if (!exact) {
      // The band of input rows this item owns: its windows' rows, and the
      // rows before the first window or after the last one.
      int64_t bandBegin = firstRow == 0 ? 0 : firstRow * g.sh - g.ph;
      int64_t bandEnd = lastRow == g.oh ? g.h : lastRow * g.sh - g.ph;
      bandBegin = std::clamp<int64_t>(bandBegin, 0, g.h);
      bandEnd = std::clamp<int64_t>(bandEnd, bandBegin, g.h);
      std::fill(dx + bandBegin * g.w * Lanes, dx + bandEnd * g.w * Lanes, 0.0f);
    }
    for (int64_t oh = firstRow; oh < lastRow; ++oh) {
      int64_t out = oh * g.ow * Lanes;
      if (exact)
        backwardRow<Lanes, true>(g, dy + out, argmax + out, dx, oh);
      else
        backwardRow<Lanes, false>(g, dy + out, argmax + out, dx, oh);
    }
  }
}

template <typename Body> void forLanes(int64_t lanes, Body body) {
  switch (lanes) {
  case 1:
    return body(std::integral_constant<int64_t, 1>());
  case 8:
    return body(std::integral_constant<int64_t, 8>());
  case 16:
    return body(std::integral_constant<int64_t, 16>());
  default:
    fatal("a max pooling of " + std::to_string(lanes) +
              " channels per position",
          "this runtime pools 1, 8 or 16; rebuild the trainer with the kilnc "
          "that comes with this runtime");
  }
}

} // namespace

void kiln::cpu::maxPoolForward(const MaxPoolGeometry &g, const float *x,
                               float *y, int32_t *argmax) {
  Job job{g, x, y, argmax};
  forLanes(g.lanes, [&](auto lanes) {
    kiln_rt_parallel_for(forwardRows<lanes>, &job, g.planes * g.oh);
  });
}

void kiln::cpu::maxPoolBackward(const MaxPoolGeometry &g, const float *dy,
                                const int32_t *argmax, float *dx) {
  GradientJob job{g, dy, argmax, dx};
  int64_t items = g.sh >= g.kh ? g.planes * g.oh : g.planes;
  forLanes(g.lanes, [&](auto lanes) {
    kiln_rt_parallel_for(backwardItems<lanes>, &job, items);
  });
}
