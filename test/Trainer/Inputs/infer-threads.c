/* infer-threads.c: two models of an inference library run at once, on two
 * threads, and compute what one model computes alone; errors are strings.
 *
 *   infer-threads WEIGHTS INPUTS.bin OTHER_MODEL_WEIGHTS
 *
 * INPUTS.bin holds two batches of the CNN's image input, as floats. Prints
 * "ok" and exits 0, or says what differs and exits 1. */

#include "cnn.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { kRepeats = 20 };

struct Job {
  cnn_model *model;
  const float *images;
  float logits[CNN_LOGITS_ELEMENTS];
  int failed;
};

static void *work(void *argument) {
  struct Job *job = argument;
  for (int i = 0; i < kRepeats && !job->failed; ++i)
    job->failed = cnn_run(job->model, job->images, job->logits) != 0;
  return NULL;
}

int main(int argc, char **argv) {
  if (argc != 4) {
    fprintf(stderr, "usage: %s WEIGHTS INPUTS.bin OTHER_WEIGHTS\n", argv[0]);
    return 2;
  }
  static float images[2 * CNN_IMAGE_ELEMENTS];
  FILE *file = fopen(argv[2], "rb");
  if (!file || fread(images, sizeof(float), 2 * CNN_IMAGE_ELEMENTS, file) !=
                   2 * CNN_IMAGE_ELEMENTS) {
    fprintf(stderr, "infer-threads: cannot read %s\n", argv[2]);
    return 2;
  }
  fclose(file);

  /* Alone, one batch after the other on one model. */
  static float alone[2][CNN_LOGITS_ELEMENTS];
  cnn_model *first = cnn_load(argv[1], 1);
  cnn_model *second = cnn_load(argv[1], 1);
  if (!first || !second) {
    fprintf(stderr, "infer-threads: %s\n", cnn_last_error());
    return 1;
  }
  for (int b = 0; b < 2; ++b)
    if (cnn_run(first, images + b * CNN_IMAGE_ELEMENTS, alone[b]) != 0) {
      fprintf(stderr, "infer-threads: %s\n", cnn_last_error());
      return 1;
    }

  /* At once, each model on its own thread and batch. */
  struct Job jobs[2] = {{first, images, {0}, 0},
                        {second, images + CNN_IMAGE_ELEMENTS, {0}, 0}};
  pthread_t threads[2];
  for (int t = 0; t < 2; ++t)
    pthread_create(&threads[t], NULL, work, &jobs[t]);
  for (int t = 0; t < 2; ++t)
    pthread_join(threads[t], NULL);
  int status = 0;
  for (int t = 0; t < 2; ++t) {
    if (jobs[t].failed) {
      fprintf(stderr, "infer-threads: thread %d failed\n", t);
      status = 1;
    } else if (memcmp(jobs[t].logits, alone[t], sizeof(alone[t])) != 0) {
      fprintf(stderr, "infer-threads: thread %d computed other logits\n", t);
      status = 1;
    }
  }

  /* Errors: a missing file, another model's weights, a null buffer. */
  if (cnn_load("/nonexistent.safetensors", 0) ||
      !strstr(cnn_last_error(), "/nonexistent.safetensors")) {
    fprintf(stderr, "infer-threads: a missing file loaded\n");
    status = 1;
  }
  printf("missing: %s\n", cnn_last_error());
  if (cnn_load(argv[3], 0)) {
    fprintf(stderr, "infer-threads: another model's weights loaded\n");
    status = 1;
  }
  printf("other model: %s\n", cnn_last_error());
  if (cnn_run(first, NULL, jobs[0].logits) != -1) {
    fprintf(stderr, "infer-threads: a NULL input ran\n");
    status = 1;
  }
  printf("null input: %s\n", cnn_last_error());
  /* Unaligned buffers are copied, not refused. */
  float *unaligned = malloc(sizeof(float) * (CNN_IMAGE_ELEMENTS + 1));
  memcpy(unaligned + 1, images, sizeof(float) * CNN_IMAGE_ELEMENTS);
  float shifted[CNN_LOGITS_ELEMENTS + 1];
  if (cnn_run(first, unaligned + 1, shifted + 1) != 0 ||
      memcmp(shifted + 1, alone[0], sizeof(alone[0])) != 0) {
    fprintf(stderr, "infer-threads: unaligned buffers computed otherwise\n");
    status = 1;
  }
  free(unaligned);
  cnn_free(first);
  cnn_free(second);
  cnn_free(NULL);
  if (status == 0)
    printf("ok\n");
  return status;
}
