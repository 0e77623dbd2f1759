/* The W-tiny training step (2,4,1 tanh, m = 400, f32: the notes' planar
 * network) as a C programmer would write it: plain loops over row-major
 * arrays, scalar tanhf / expf / log1pf from libm, no SIMD intrinsics, built
 * with `cc -O2`. It is the reference that bench/peer.py times alternately
 * with `dagrad bench --layers 2,4,1 --hidden tanh --m 400 --dtype f32`.
 *
 * One step, as in the notes (X is n0 x m, columns are samples):
 *   Z1 = W1 X + b1, A1 = tanh(Z1), Z2 = W2 A1 + b2, A2 = sigmoid(Z2)
 *   J  = -(1/m) sum(Y log A2 + (1 - Y) log(1 - A2)), computed from Z2 as
 *        (1/m) sum(max(z, 0) - y z + log1p(exp(-|z|)))
 *   dZ2 = A2 - Y, dW2 = 1/m dZ2 A1^T, db2 = 1/m sum(dZ2)
 *   dZ1 = W2^T dZ2 * (1 - A1^2), dW1 = 1/m dZ1 X^T, db1 = 1/m sum(dZ1)
 *   W -= lr dW, b -= lr db
 * The data are synthetic (a fixed LCG): timing does not depend on them.
 *
 *   cc -O2 bench/tiny_ref.c -o tiny_ref -lm && ./tiny_ref [steps]
 * prints one JSON line: {"median_ms": ..., "cost": ...}
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#define N0 2
#define N1 4
#define M 400

static float X[N0 * M], Y[M];
static float W1[N1 * N0], b1[N1], W2[N1], b2;
static float Z1[N1 * M], A1[N1 * M], Z2[M], A2[M];
static float dZ2[M], dZ1[N1 * M], dW1[N1 * N0], db1[N1], dW2[N1], db2;

static unsigned lcg_state = 12345u;
/* Uniform in [-1, 1). */
static float lcg(void) {
  lcg_state = lcg_state * 1664525u + 1013904223u;
  return (float)(lcg_state >> 8) / 8388608.0f - 1.0f;
}

static float step(float lr) {
  int i, j, k;
  float cost = 0.0f;
  /* forward */
  for (i = 0; i < N1; ++i)
    for (j = 0; j < M; ++j) {
      float z = b1[i];
      for (k = 0; k < N0; ++k) z += W1[i * N0 + k] * X[k * M + j];
      Z1[i * M + j] = z;
      A1[i * M + j] = tanhf(z);
    }
  for (j = 0; j < M; ++j) {
    float z = b2;
    for (i = 0; i < N1; ++i) z += W2[i] * A1[i * M + j];
    Z2[j] = z;
    A2[j] = 1.0f / (1.0f + expf(-z));
  }
  /* cost, stable from the logits */
  for (j = 0; j < M; ++j) {
    const float z = Z2[j];
    cost += (z > 0.0f ? z : 0.0f) - Y[j] * z + log1pf(expf(-fabsf(z)));
  }
  cost /= (float)M;
  /* backward */
  db2 = 0.0f;
  for (i = 0; i < N1; ++i) dW2[i] = 0.0f;
  for (j = 0; j < M; ++j) {
    dZ2[j] = A2[j] - Y[j];
    db2 += dZ2[j];
    for (i = 0; i < N1; ++i) dW2[i] += dZ2[j] * A1[i * M + j];
  }
  db2 /= (float)M;
  for (i = 0; i < N1; ++i) dW2[i] /= (float)M;
  for (i = 0; i < N1; ++i) {
    float db = 0.0f, dw[N0] = {0.0f};
    for (j = 0; j < M; ++j) {
      const float a = A1[i * M + j];
      const float dz = W2[i] * dZ2[j] * (1.0f - a * a);
      dZ1[i * M + j] = dz;
      db += dz;
      for (k = 0; k < N0; ++k) dw[k] += dz * X[k * M + j];
    }
    db1[i] = db / (float)M;
    for (k = 0; k < N0; ++k) dW1[i * N0 + k] = dw[k] / (float)M;
  }
  /* update */
  for (i = 0; i < N1 * N0; ++i) W1[i] -= lr * dW1[i];
  for (i = 0; i < N1; ++i) b1[i] -= lr * db1[i];
  for (i = 0; i < N1; ++i) W2[i] -= lr * dW2[i];
  b2 -= lr * db2;
  return cost;
}

static double now_ms(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return 1e3 * (double)t.tv_sec + 1e-6 * (double)t.tv_nsec;
}

static int by_value(const void* a, const void* b) {
  const double x = *(const double*)a, y = *(const double*)b;
  return (x > y) - (x < y);
}

int main(int argc, char** argv) {
  const int steps = argc > 1 ? atoi(argv[1]) : 2000;
  double* times;
  float cost = 0.0f;
  int i, j;
  if (steps < 1) {
    fprintf(stderr, "tiny_ref: steps %s must be at least 1\n", argv[1]);
    return 2;
  }
  times = malloc(sizeof(double) * (size_t)steps);
  if (!times) return 1;
  for (j = 0; j < M; ++j) {
    X[j] = 2.0f * lcg();
    X[M + j] = 2.0f * lcg();
    Y[j] = X[j] * X[M + j] > 0.0f ? 1.0f : 0.0f;
  }
  for (i = 0; i < N1 * N0; ++i) W1[i] = lcg();
  for (i = 0; i < N1; ++i) W2[i] = lcg();
  for (i = 0; i < 3; ++i) step(0.01f);
  for (i = 0; i < steps; ++i) {
    const double t0 = now_ms();
    cost = step(0.01f);
    times[i] = now_ms() - t0;
  }
  qsort(times, (size_t)steps, sizeof(double), by_value);
  printf("{\"median_ms\": %.6f, \"cost\": %.6f}\n", times[steps / 2], cost);
  free(times);
  return 0;
}
