/* harness.c: times an inference library's <prefix>_run on one batch, for
 * bench/infer/bench.py. Built once per library:
 *
 *   cc -DHEADER='"cnn_b1.h"' -DPREFIX=cnn_b1 harness.c -L. -lcnn_b1 -o h
 *   ./h WEIGHTS RUNS THREADS
 *
 * Fills the inputs with a fixed pattern, runs 10 untimed batches, then RUNS
 * timed ones, and prints "kiln: RUNS runs: median M ms/batch (min A, max
 * B)". */

#define _POSIX_C_SOURCE 200112L

#include HEADER

#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#define CONCAT2(a, b) a##_##b
#define CONCAT(a, b) CONCAT2(a, b)
#define API(name) CONCAT(PREFIX, name)

static int compare(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

static double now(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return t.tv_sec + t.tv_nsec * 1e-9;
}

int main(int argc, char **argv) {
  if (argc != 4) {
    fprintf(stderr, "usage: %s WEIGHTS RUNS THREADS\n", argv[0]);
    return 2;
  }
  int runs = atoi(argv[2]);
  API(model) *model = API(load)(argv[1], atoi(argv[3]));
  if (!model || runs < 1) {
    fprintf(stderr, "harness: %s\n", model ? "RUNS must be positive"
                                           : API(last_error)());
    return 1;
  }
  size_t inputs = IMAGE_ELEMENTS, outputs = LOGITS_ELEMENTS;
  float *image = aligned_alloc(64, (inputs * sizeof(float) + 63) / 64 * 64);
  float *logits = aligned_alloc(64, (outputs * sizeof(float) + 63) / 64 * 64);
  for (size_t i = 0; i < inputs; ++i)
    image[i] = (float)((i * 7919) % 256) / 255.0f;
  double *times = malloc(sizeof(double) * runs);
  for (int i = -10; i < runs; ++i) {
    double begin = now();
    if (API(run)(model, image, logits) != 0) {
      fprintf(stderr, "harness: %s\n", API(last_error)());
      return 1;
    }
    if (i >= 0)
      times[i] = (now() - begin) * 1e3;
  }
  qsort(times, runs, sizeof(double), compare);
  printf("kiln: %d runs: median %.4f ms/batch (min %.4f, max %.4f)\n", runs,
         times[runs / 2], times[0], times[runs - 1]);
  API(free)(model);
  return 0;
}
