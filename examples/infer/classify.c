/* classify.c: classifies images with the inference library of the seed CNN,
 * a C program that links no Kiln, LLVM or Python.
 *
 *   kilnc examples/cnn.kiln -emit=lib -o libcnn.so     # also writes cnn.h
 *   cc -I. examples/infer/classify.c -L. -lcnn -Wl,-rpath,. -lm -o classify
 *   ./classify cnn.safetensors shoe.png shirt.png ...
 *
 * The weights are a checkpoint of the trainer (cnn-train --save FILE) or a
 * PyTorch state_dict saved with safetensors. Each image must be 28 x 28 (it
 * is read as grey, scaled to [0, 1] as the trainer's images(...) source
 * does). For each image it prints its path, its class and the model's ten
 * logits; images go through the library in batches of CNN_BATCH_SIZE, the
 * last one padded with copies of its first image, as `cnn-train predict`
 * does, so that both print the same numbers. */

#include "cnn.h"

#define STB_IMAGE_IMPLEMENTATION
#define STBI_ONLY_PNG
#define STBI_ONLY_JPEG
#define STBI_ONLY_BMP
#include <stb/stb_image.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { kPixels = CNN_IMAGE_ELEMENTS / CNN_BATCH_SIZE,
       kClasses = CNN_LOGITS_ELEMENTS / CNN_BATCH_SIZE };

static const char *const kClassNames[] = {
    "T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
    "Sandal",      "Shirt",   "Sneaker",  "Bag",   "Ankle boot"};

/* Reads `path` into `pixels` (kPixels floats); returns 0 on success. */
static int readImage(const char *path, float *pixels) {
  int width, height, channels;
  unsigned char *data = stbi_load(path, &width, &height, &channels, 1);
  if (!data) {
    fprintf(stderr, "classify: %s: %s\n", path, stbi_failure_reason());
    return 1;
  }
  if (width * height != kPixels) {
    fprintf(stderr, "classify: %s: %d x %d pixels, the model takes %d\n",
            path, width, height, kPixels);
    stbi_image_free(data);
    return 1;
  }
  for (int i = 0; i < kPixels; ++i)
    pixels[i] = (float)(data[i] / 255.0);
  stbi_image_free(data);
  return 0;
}

int main(int argc, char **argv) {
  if (argc < 3) {
    fprintf(stderr, "usage: %s WEIGHTS.safetensors IMAGE...\n", argv[0]);
    return 2;
  }
  cnn_model *model = cnn_load(argv[1], 0);
  if (!model) {
    fprintf(stderr, "classify: %s\n", cnn_last_error());
    return 1;
  }
  float *images = malloc(sizeof(float) * CNN_IMAGE_ELEMENTS);
  float *logits = malloc(sizeof(float) * CNN_LOGITS_ELEMENTS);
  int status = 0;
  for (int first = 2; first < argc && status == 0; first += CNN_BATCH_SIZE) {
    int count = argc - first < CNN_BATCH_SIZE ? argc - first : CNN_BATCH_SIZE;
    for (int i = 0; i < count && status == 0; ++i)
      status = readImage(argv[first + i], images + i * kPixels);
    for (int i = count; i < CNN_BATCH_SIZE; ++i)
      memcpy(images + i * kPixels, images, sizeof(float) * kPixels);
    if (status == 0 && cnn_run(model, images, logits) != 0) {
      fprintf(stderr, "classify: %s\n", cnn_last_error());
      status = 1;
    }
    for (int i = 0; i < count && status == 0; ++i) {
      const float *row = logits + i * kClasses;
      int best = 0;
      for (int c = 1; c < kClasses; ++c)
        if (row[c] > row[best])
          best = c;
      printf("%s %d %s", argv[first + i], best, kClassNames[best]);
      for (int c = 0; c < kClasses; ++c)
        printf(" %.9g", row[c]);
      printf("\n");
    }
  }
  free(images);
  free(logits);
  cnn_free(model);
  return status;
}
