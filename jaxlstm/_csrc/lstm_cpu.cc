// Whole-layer LSTM recurrence for XLA:CPU, called through the XLA FFI.
//
// jaxlstm.model.lstm_scan runs the recurrence as a lax.scan; XLA:CPU runs
// each step's small `h @ W_h` at ~40 % of a BLAS and pays a per-iteration
// overhead. This file runs all T steps in one call, as oneDNN and cuDNN do:
//
//   forward   z_t = x_proj_t + h_{t-1} W_h ; gates ; c_t, h_t
//   backward  dz_t from (dh, dc), then dh_{t-1} = dz_t W_h^T
//
// The input projection (`x W_x + b`) stays outside, one large XLA matmul;
// the weight gradient `dW_h = sum_t h_{t-1}^T dz_t` is one GEMM at the end
// of the backward call.
// GEMMs are SciPy's `sgemm` (its pointer is handed over from
// `scipy.linalg.cython_blas` at import time, as jaxlib does for LAPACK), run
// single-threaded on each thread. Members of a vmapped sweep arrive as
// leading dimensions and are spread over XLA's intra-op threads; when there
// are fewer members than threads, each member's hidden units are split
// between threads, which meet once per time step (see "work sharing").
//
// Layouts (row-major, time-major, gates ordered i, f, g, o):
//   x_proj (..., T, B, 4H)   w_h (..., H, 4H)   mask (..., T, B) bool
//   ys, h_prev, c_all (..., T, B, H)   act (..., T, B, 4H)   c, h (..., B, H)
// `...` is any number of member dimensions (one per vmap).

#include <Python.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <memory>
#include <numeric>
#include <string>
#include <thread>
#include <vector>

#include "xla/ffi/api/ffi.h"

namespace ffi = xla::ffi;

namespace {

// ---------------------------------------------------------------- BLAS
// Fortran sgemm (LP64), from scipy.linalg.cython_blas. Its OpenBLAS is set to
// one thread when the kernel loads (jaxlstm/kernel.py): our threads each run
// single-threaded GEMMs. (Changing OpenBLAS' thread count per call was
// measured to wake its worker threads, which then spin and steal the cores.)
using sgemm_t = void (*)(const char*, const char*, const int*, const int*, const int*, const float*, const float*,
                         const int*, const float*, const int*, const float*, float*, const int*);
sgemm_t g_sgemm = nullptr;

// Row-major C (m x n) = op(A) op(B) + beta * C, through Fortran sgemm
// (column-major): C^T = op(B)^T op(A)^T.
inline void gemm_rm(bool trans_a, bool trans_b, int m, int n, int k, const float* a, int lda, const float* b,
                    int ldb, float beta, float* c, int ldc) {
  const char ta = trans_b ? 'T' : 'N', tb = trans_a ? 'T' : 'N';
  const float alpha = 1.0f;
  g_sgemm(&ta, &tb, &n, &m, &k, &alpha, b, &ldb, a, &lda, &beta, c, &ldc);
}

// Packed GEMM for the per-step products. W_h is the same at every step, so
// each lane packs its block of it once per call into panels of 32 columns
// (K x 32 floats, zero-padded), and every step multiplies by the panels:
// no per-call packing of the constant operand as a BLAS does (measured 11 %
// of a W2 training step in OpenBLAS' copy routines). An 8 x 32 register
// tile with AVX-512 FMAs; without AVX-512 (or JAXLSTM_KERNEL_GEMM=blas) the
// steps call sgemm instead.
#if defined(__AVX512F__)
#include <immintrin.h>
constexpr int64_t kPanel = 32;

template <int MR>
inline void tile(const float* a, int64_t lda, const float* panel, int64_t K, float* c, int64_t ldc, bool acc_c) {
  __m512 acc[MR][2];
  for (int r = 0; r < MR; ++r) {
    acc[r][0] = acc_c ? _mm512_loadu_ps(c + r * ldc) : _mm512_setzero_ps();
    acc[r][1] = acc_c ? _mm512_loadu_ps(c + r * ldc + 16) : _mm512_setzero_ps();
  }
  for (int64_t k = 0; k < K; ++k) {
    const __m512 b0 = _mm512_loadu_ps(panel + k * kPanel), b1 = _mm512_loadu_ps(panel + k * kPanel + 16);
    for (int r = 0; r < MR; ++r) {
      const __m512 av = _mm512_set1_ps(a[r * lda + k]);
      acc[r][0] = _mm512_fmadd_ps(av, b0, acc[r][0]);
      acc[r][1] = _mm512_fmadd_ps(av, b1, acc[r][1]);
    }
  }
  for (int r = 0; r < MR; ++r) {
    _mm512_storeu_ps(c + r * ldc, acc[r][0]);
    _mm512_storeu_ps(c + r * ldc + 16, acc[r][1]);
  }
}

// C (M x NP) (+)= A (M x K) * packed (K x NP), NP a multiple of 32.
inline void gemm_packed(int64_t M, int64_t NP, int64_t K, const float* a, int64_t lda, const float* packed, float* c,
                        int64_t ldc, bool acc_c) {
  for (int64_t p = 0; p < NP / kPanel; ++p) {
    const float* panel = packed + p * K * kPanel;
    float* cp = c + p * kPanel;
    int64_t r = 0;
    for (; r + 8 <= M; r += 8) tile<8>(a + r * lda, lda, panel, K, cp + r * ldc, ldc, acc_c);
    const float* ar = a + r * lda;
    float* cr = cp + r * ldc;
    switch (M - r) {
      case 7: tile<7>(ar, lda, panel, K, cr, ldc, acc_c); break;
      case 6: tile<6>(ar, lda, panel, K, cr, ldc, acc_c); break;
      case 5: tile<5>(ar, lda, panel, K, cr, ldc, acc_c); break;
      case 4: tile<4>(ar, lda, panel, K, cr, ldc, acc_c); break;
      case 3: tile<3>(ar, lda, panel, K, cr, ldc, acc_c); break;
      case 2: tile<2>(ar, lda, panel, K, cr, ldc, acc_c); break;
      case 1: tile<1>(ar, lda, panel, K, cr, ldc, acc_c); break;
      default: break;
    }
  }
}
inline bool use_packed() {
  static const bool packed = [] {
    const char* env = std::getenv("JAXLSTM_KERNEL_GEMM");
    return !(env && std::string(env) == "blas");
  }();
  return packed;
}
#else
constexpr int64_t kPanel = 32;
inline void gemm_packed(int64_t, int64_t, int64_t, const float*, int64_t, const float*, float*, int64_t, bool) {}
inline bool use_packed() { return false; }
#endif
inline int64_t round_panel(int64_t n) { return (n + kPanel - 1) / kPanel * kPanel; }

// ---------------------------------------------------------------- math
// exp on the vector units: Cody-Waite range reduction + degree-6 polynomial
// (relative error ~2e-7); written so GCC vectorises the loops that call it.
inline float fast_exp(float x) {
  // clamp without std::min/max, which would turn NaN into a bound: NaN must
  // propagate (a diverged member is detected by its non-finite loss)
  x = x > 88.0f ? 88.0f : (x < -88.0f ? -88.0f : x);
  const float n = __builtin_rintf(x * 1.44269504088896341f);
  float r = x - n * 0.693359375f;
  r = r + n * 2.12194440e-4f;
  float p = 1.9875691500e-4f;
  p = p * r + 1.3981999507e-3f;
  p = p * r + 8.3334519073e-3f;
  p = p * r + 4.1665795894e-2f;
  p = p * r + 1.6666665459e-1f;
  p = p * r + 5.0000001201e-1f;
  p = p * r * r + r + 1.0f;
  int32_t bits = (static_cast<int32_t>(n) + 127) << 23;
  float scale;
  std::memcpy(&scale, &bits, sizeof scale);
  return p * scale;
}
inline float sigmoid(float x) { return 1.0f / (1.0f + fast_exp(-x)); }
inline float tanh_(float x) {
  // tanh(x) = sign(x) (1 - e) / (1 + e), e = exp(-2|x|): no cancellation for large |x|.
  const float e = fast_exp(-2.0f * std::fabs(x));
  const float t = (1.0f - e) / (1.0f + e);
  return std::copysign(t, x);
}

// One step of the cell for `n` units of one row (restrict: lets GCC vectorise).
inline void cell_forward(int64_t n, const float* __restrict i, const float* __restrict f, const float* __restrict g,
                         const float* __restrict o, float* __restrict c, float* __restrict h, float* __restrict y) {
  for (int64_t j = 0; j < n; ++j) {
    const float cn = f[j] * c[j] + i[j] * g[j];
    const float hv = o[j] * tanh_(cn);
    c[j] = cn;
    h[j] = hv;
    y[j] = hv;
  }
}

// Its backward: gate-preactivation gradients dz from (dh + dy, dc); dc is
// carried back in place (dh is replaced after the GEMM).
inline void cell_backward(int64_t n, const float* __restrict i, const float* __restrict f,
                          const float* __restrict g, const float* __restrict o, const float* __restrict c,
                          const float* __restrict c_prev, const float* __restrict dy, const float* __restrict dh,
                          float* __restrict dc, float* __restrict dzi, float* __restrict dzf, float* __restrict dzg,
                          float* __restrict dzo) {
  for (int64_t j = 0; j < n; ++j) {
    const float dhn = dh[j] + dy[j];
    const float tc = tanh_(c[j]);
    const float dcn = dc[j] + dhn * o[j] * (1.0f - tc * tc);
    dzi[j] = dcn * g[j] * i[j] * (1.0f - i[j]);
    dzf[j] = dcn * c_prev[j] * f[j] * (1.0f - f[j]);
    dzg[j] = dcn * i[j] * (1.0f - g[j] * g[j]);
    dzo[j] = dhn * tc * o[j] * (1.0f - o[j]);
    dc[j] = dcn * f[j];
  }
}

// ---------------------------------------------------------------- work sharing
// A call's work is a grid of items (substep, lane). A lane is one member's
// slice of hidden units; items of one substep are independent, and an item
// may start once every item of the previous substep is complete (for the
// forward pass: step t needs all of h_{t-1}). Participants -- the calling
// thread and helpers scheduled on XLA's own intra-op thread pool, whose
// workers are the ones spinning between XLA's ops -- take items by ticket.
// Nobody waits for a participant that has not started: the caller alone can
// finish everything, a helper that starts late finds no tickets and leaves,
// and the caller returns once every item is complete (the shared counters
// live until the last helper has left). So it cannot deadlock whether XLA
// runs the helpers in parallel, later, or inline.
// (A private thread pool was measured first: XLA's spinning workers took the
// cores from it, and one member on two threads ran no faster than on one.)
struct Work {
  int64_t lanes = 0, substeps = 0;
  std::function<void(int64_t, int64_t)> item;  // (substep, lane)
  std::atomic<int64_t> ticket{0}, completed{0};
};

inline void wait_until(const std::atomic<int64_t>& v, int64_t target) {
  for (int spins = 0; v.load(std::memory_order_acquire) < target; ++spins)
    if (spins > 2000) std::this_thread::yield();
}

void participate(Work& w) {
  const int64_t total = w.lanes * w.substeps;
  for (;;) {
    const int64_t k = w.ticket.fetch_add(1, std::memory_order_relaxed);
    if (k >= total) return;
    const int64_t sub = k / w.lanes;
    wait_until(w.completed, sub * w.lanes);
    w.item(sub, k % w.lanes);
    w.completed.fetch_add(1, std::memory_order_acq_rel);
  }
}

// Threads to spread a call over: JAXLSTM_KERNEL_THREADS, else XLA's intra-op
// pool size (the machine's cores, or what XLA_FLAGS set).
int participants(ffi::ThreadPool& tp) {
  if (const char* env = std::getenv("JAXLSTM_KERNEL_THREADS")) {
    const int n = std::atoi(env);
    if (n > 0) return n;
  }
  return static_cast<int>(std::max<int64_t>(1, tp.num_threads()));
}

void run(ffi::ThreadPool& tp, int threads, const std::shared_ptr<Work>& w) {
  const int helpers = static_cast<int>(std::min<int64_t>(threads, w->lanes)) - 1;
  for (int i = 0; i < helpers; ++i) tp.Schedule([w] { participate(*w); });
  participate(*w);
  wait_until(w->completed, w->lanes * w->substeps);
}

// Lanes per member: a member's hidden units are split so that the lanes
// divide evenly between the threads (1 member on 2 threads: 2 slices; 3
// members: 2 slices each, 6 lanes, 3 per thread, where 3 whole members
// would leave a thread idle half of every step). With many members, one
// lane each: the last uneven round is a small part of the work.
inline int64_t slices_per_member(int threads, int64_t members) {
  if (members % threads == 0 || members >= 4 * threads) return 1;
  return threads / std::gcd(static_cast<int64_t>(threads), members);
}

inline void unit_range(int64_t hidden, int64_t slices, int64_t s, int64_t* u0, int64_t* u1) {
  // chunks are multiples of 16 floats (one AVX-512 vector) where possible
  int64_t chunk = (hidden + slices - 1) / slices;
  chunk = std::min(hidden, (chunk + 15) / 16 * 16);
  *u0 = std::min(hidden, s * chunk);
  *u1 = std::min(hidden, *u0 + chunk);
}

// ---------------------------------------------------------------- shapes
struct Dims {
  int64_t members, T, B, H;
};
ffi::ErrorOr<Dims> layer_dims(const ffi::Buffer<ffi::F32>& xp, const ffi::Buffer<ffi::F32>& w,
                              const ffi::Buffer<ffi::PRED>& mask) {
  auto xd = xp.dimensions(), wd = w.dimensions(), md = mask.dimensions();
  if (xd.size() < 3 || wd.size() != xd.size() - 1 || md.size() != xd.size() - 1)
    return ffi::Unexpected(ffi::Error::InvalidArgument("lstm kernel: x_proj (..., T, B, 4H), w_h (..., H, 4H), "
                                                       "mask (..., T, B) have inconsistent ranks"));
  Dims d;
  const size_t r = xd.size();
  d.T = xd[r - 3];
  d.B = xd[r - 2];
  d.H = xd[r - 1] / 4;
  d.members = 1;
  for (size_t i = 0; i + 3 < r; ++i) {
    if (wd[i] != xd[i] || md[i] != xd[i])
      return ffi::Unexpected(ffi::Error::InvalidArgument("lstm kernel: member dimensions differ"));
    d.members *= xd[i];
  }
  if (xd[r - 1] != 4 * d.H || wd[r - 3] != d.H || wd[r - 2] != 4 * d.H || md[r - 3] != d.T || md[r - 2] != d.B)
    return ffi::Unexpected(ffi::Error::InvalidArgument("lstm kernel: shapes do not match (T, B, 4H) / (H, 4H) / (T, B)"));
  if (!g_sgemm) return ffi::Unexpected(ffi::Error::Internal("lstm kernel: BLAS sgemm was not set"));
  return d;
}

// ---------------------------------------------------------------- forward
// Substep 0: each lane packs its columns of W_h (when a member is split) and
// zeroes its part of the state; substep 1 + t: time step t.
template <bool kTrain>
ffi::Error forward_impl(ffi::ThreadPool tp, ffi::Buffer<ffi::F32> xp, ffi::Buffer<ffi::F32> w,
                        ffi::Buffer<ffi::PRED> mask, ffi::ResultBuffer<ffi::F32> ys, ffi::ResultBuffer<ffi::F32> c_out,
                        ffi::ResultBuffer<ffi::F32> h_out, float* act, float* c_all, float* h_prev) {
  auto dims = layer_dims(xp, w, mask);
  if (dims.has_error()) return dims.error();
  const Dims d = dims.value();
  const int64_t T = d.T, B = d.B, H = d.H, G = 4 * H, TBH = T * B * H, BH = B * H;
  const int threads = participants(tp);
  const int64_t S = slices_per_member(threads, d.members), lanes = d.members * S;
  int64_t hk_max, unused;
  unit_range(H, S, 0, &unused, &hk_max);
  const bool packed = use_packed();
  const int64_t np_max = round_panel(4 * hk_max);  // padded width of a lane's z
  std::vector<float> wpack(packed || S > 1 ? static_cast<size_t>(lanes * H * np_max) : 0);
  std::vector<float> zbuf(static_cast<size_t>(lanes * B * std::max<int64_t>(np_max, 1)));
  std::vector<float> hbuf(static_cast<size_t>(d.members * 2 * BH));
  const float* x0 = xp.typed_data();
  const float* w0 = w.typed_data();
  const bool* m0 = mask.typed_data();
  float *ys0 = ys->typed_data(), *c0 = c_out->typed_data(), *h0 = h_out->typed_data();

  auto work = std::make_shared<Work>();
  work->lanes = lanes;
  work->substeps = 1 + T;
  work->item = [&](int64_t sub, int64_t lane) {
    const int64_t m = lane / S;
    int64_t u0, u1;
    unit_range(H, S, lane % S, &u0, &u1);
    const int64_t hk = u1 - u0;
    if (hk == 0) return;
    const float* wm = w0 + m * H * G;
    // this lane's columns of W_h, gate blocks side by side: (H, 4hk) (a whole
    // member with BLAS uses W_h as it is); packed: panels of 32 columns
    const int64_t np = round_panel(4 * hk);
    float* wl = wpack.empty() ? nullptr : &wpack[lane * H * np_max];
    const float* wk = S > 1 ? wl : wm;
    const int ldw = static_cast<int>(S > 1 ? 4 * hk : G);
    float* hb = &hbuf[m * 2 * BH];
    float* c = c0 + m * BH;
    if (sub == 0) {
      if (packed) {
        std::memset(wl, 0, sizeof(float) * H * np);
        for (int64_t r = 0; r < H; ++r)
          for (int g = 0; g < 4; ++g)
            for (int64_t j = 0; j < hk; ++j) {
              const int64_t col = g * hk + j;
              wl[(col / kPanel) * H * kPanel + r * kPanel + col % kPanel] = wm[r * G + g * H + u0 + j];
            }
      } else if (S > 1) {
        for (int64_t r = 0; r < H; ++r)
          for (int g = 0; g < 4; ++g)
            std::memcpy(&wl[r * 4 * hk + g * hk], &wm[r * G + g * H + u0], sizeof(float) * hk);
      }
      for (int64_t b = 0; b < B; ++b) {
        std::memset(c + b * H + u0, 0, sizeof(float) * hk);
        std::memset(hb + b * H + u0, 0, sizeof(float) * hk);
      }
      return;
    }
    const int64_t t = sub - 1;
    const float* x = x0 + m * T * B * G;
    const bool* mk = m0 + m * T * B;
    const float* hc = hb + (t % 2) * BH;
    float* hn = hb + ((t + 1) % 2) * BH;
    float* z = &zbuf[lane * B * np_max];
    const int64_t ldz = packed ? np : 4 * hk;
    // z (B, 4hk) = x_proj_t[:, my columns] + h_{t-1} W_k
    for (int64_t b = 0; b < B; ++b)
      for (int g = 0; g < 4; ++g)
        std::memcpy(&z[b * ldz + g * hk], &x[(t * B + b) * G + g * H + u0], sizeof(float) * hk);
    if (packed)
      gemm_packed(B, np, H, hc, H, wl, z, ldz, true);
    else
      gemm_rm(false, false, static_cast<int>(B), static_cast<int>(4 * hk), static_cast<int>(H), hc,
              static_cast<int>(H), wk, ldw, 1.0f, z, static_cast<int>(ldz));
    for (int64_t b = 0; b < B; ++b) {
      float* zb = &z[b * ldz];
      float *zi = zb, *zf = zb + hk, *zg = zb + 2 * hk, *zo = zb + 3 * hk;
      for (int64_t j = 0; j < hk; ++j) {
        zi[j] = sigmoid(zi[j]);
        zf[j] = sigmoid(zf[j]);
        zg[j] = tanh_(zg[j]);
        zo[j] = sigmoid(zo[j]);
      }
      float* cb = c + b * H + u0;
      const float* hcb = hc + b * H + u0;
      float* hnb = hn + b * H + u0;
      float* yb = ys0 + m * TBH + (t * B + b) * H + u0;
      if (kTrain) {
        float* ab = act + m * 4 * TBH + (t * B + b) * G;
        for (int g = 0; g < 4; ++g) std::memcpy(ab + g * H + u0, zb + g * hk, sizeof(float) * hk);
        std::memcpy(h_prev + m * TBH + (t * B + b) * H + u0, hcb, sizeof(float) * hk);
      }
      if (mk[t * B + b]) {
        cell_forward(hk, zi, zf, zg, zo, cb, hnb, yb);
      } else {  // padding: the state is carried through, the output is zero
        std::memcpy(hnb, hcb, sizeof(float) * hk);
        std::memset(yb, 0, sizeof(float) * hk);
      }
      if (kTrain) std::memcpy(c_all + m * TBH + (t * B + b) * H + u0, cb, sizeof(float) * hk);
      if (t == T - 1) std::memcpy(h0 + m * BH + b * H + u0, hnb, sizeof(float) * hk);
    }
  };
  if (T == 0) {
    std::memset(c0, 0, sizeof(float) * d.members * BH);
    std::memset(h0, 0, sizeof(float) * d.members * BH);
    return ffi::Error::Success();
  }
  run(tp, threads, work);
  return ffi::Error::Success();
}

ffi::Error LstmForward(ffi::ThreadPool tp, ffi::Buffer<ffi::F32> xp, ffi::Buffer<ffi::F32> w,
                       ffi::Buffer<ffi::PRED> mask, ffi::ResultBuffer<ffi::F32> ys, ffi::ResultBuffer<ffi::F32> c_out,
                       ffi::ResultBuffer<ffi::F32> h_out) {
  return forward_impl<false>(tp, xp, w, mask, ys, c_out, h_out, nullptr, nullptr, nullptr);
}

ffi::Error LstmForwardTrain(ffi::ThreadPool tp, ffi::Buffer<ffi::F32> xp, ffi::Buffer<ffi::F32> w,
                            ffi::Buffer<ffi::PRED> mask, ffi::ResultBuffer<ffi::F32> ys,
                            ffi::ResultBuffer<ffi::F32> c_out, ffi::ResultBuffer<ffi::F32> h_out,
                            ffi::ResultBuffer<ffi::F32> act, ffi::ResultBuffer<ffi::F32> c_all,
                            ffi::ResultBuffer<ffi::F32> h_prev) {
  return forward_impl<true>(tp, xp, w, mask, ys, c_out, h_out, act->typed_data(), c_all->typed_data(),
                            h_prev->typed_data());
}

// ---------------------------------------------------------------- backward
// Substep 0: each lane loads its part of (dh, dc) from the cotangents of the
// final state. Then for t = T-1 ... 0: the elementwise part (dz_t of the
// lane's units; needs only the lane's own dh, dc), and the GEMM
// dh[:, units] = dz_t W_h[units, :]^T (needs all of dz_t). Last substep:
// dW_h = sum_t h_{t-1}^T dz_t, one GEMM over all T*B rows, split by columns.
ffi::Error LstmBackward(ffi::ThreadPool tp, ffi::Buffer<ffi::F32> w, ffi::Buffer<ffi::PRED> mask,
                        ffi::Buffer<ffi::F32> act, ffi::Buffer<ffi::F32> c_all, ffi::Buffer<ffi::F32> h_prev,
                        ffi::Buffer<ffi::F32> d_ys, ffi::Buffer<ffi::F32> d_c, ffi::Buffer<ffi::F32> d_h,
                        ffi::ResultBuffer<ffi::F32> dz, ffi::ResultBuffer<ffi::F32> d_w) {
  auto dims = layer_dims(act, w, mask);
  if (dims.has_error()) return dims.error();
  const Dims d = dims.value();
  if (d_ys.element_count() != static_cast<size_t>(d.members * d.T * d.B * d.H) ||
      c_all.element_count() != d_ys.element_count() || h_prev.element_count() != d_ys.element_count() ||
      d_w->element_count() != w.element_count() ||
      d_c.element_count() != static_cast<size_t>(d.members * d.B * d.H) || d_h.element_count() != d_c.element_count())
    return ffi::Error::InvalidArgument("lstm kernel backward: cotangent shapes do not match");
  const int64_t T = d.T, B = d.B, H = d.H, G = 4 * H, TBH = T * B * H, BH = B * H;
  const int threads = participants(tp);
  const int64_t S = slices_per_member(threads, d.members), lanes = d.members * S;
  int64_t hk_max, unused;
  unit_range(H, S, 0, &unused, &hk_max);
  std::vector<float> state(static_cast<size_t>(d.members * 2 * BH));  // dh, dc per member
  const bool packed = use_packed();
  const int64_t np_max = round_panel(hk_max);
  std::vector<float> wtpack(packed ? static_cast<size_t>(lanes * G * np_max) : 0);  // W_h[units, :]^T, panels
  std::vector<float> tmp(static_cast<size_t>(lanes * B * std::max<int64_t>(np_max, 1)));
  std::vector<float> zeros(static_cast<size_t>(std::max<int64_t>(hk_max, 1)));
  const float *w0 = w.typed_data(), *act0 = act.typed_data(), *call0 = c_all.typed_data(),
              *hp0 = h_prev.typed_data(), *dy0 = d_ys.typed_data(), *dc0 = d_c.typed_data(), *dh0 = d_h.typed_data();
  const bool* m0 = mask.typed_data();
  float *dz0 = dz->typed_data(), *dw0 = d_w->typed_data();

  auto work = std::make_shared<Work>();
  work->lanes = lanes;
  work->substeps = 2 + 2 * T;
  work->item = [&](int64_t sub, int64_t lane) {
    const int64_t m = lane / S, s = lane % S;
    float* dh = &state[m * 2 * BH];
    float* dc = dh + BH;
    const float* wm = w0 + m * H * G;
    float* dzm = dz0 + m * 4 * TBH;
    if (sub == 2 * T + 1) {  // dW_h, this lane's share of the 4H columns
      const int64_t cols = (G + S - 1) / S, cb = std::min(G, s * cols), ce = std::min(G, cb + cols);
      if (ce > cb)
        gemm_rm(true, false, static_cast<int>(H), static_cast<int>(ce - cb), static_cast<int>(T * B), hp0 + m * TBH,
                static_cast<int>(H), dzm + cb, static_cast<int>(G), 0.0f, dw0 + m * H * G + cb, static_cast<int>(G));
      return;
    }
    int64_t u0, u1;
    unit_range(H, S, s, &u0, &u1);
    const int64_t hk = u1 - u0;
    if (hk == 0) return;
    const int64_t np = round_panel(hk);
    float* wt = packed ? &wtpack[lane * G * np_max] : nullptr;
    if (sub == 0) {
      for (int64_t b = 0; b < B; ++b) {
        std::memcpy(dc + b * H + u0, dc0 + m * BH + b * H + u0, sizeof(float) * hk);
        std::memcpy(dh + b * H + u0, dh0 + m * BH + b * H + u0, sizeof(float) * hk);
      }
      if (packed) {  // wt[k, j] = W_h[u0 + j, k]
        std::memset(wt, 0, sizeof(float) * G * np);
        for (int64_t j = 0; j < hk; ++j)
          for (int64_t k = 0; k < G; ++k) wt[(j / kPanel) * G * kPanel + k * kPanel + j % kPanel] = wm[(u0 + j) * G + k];
      }
      return;
    }
    const int64_t t = T - 1 - (sub - 1) / 2;
    const bool* mk = m0 + m * T * B;
    float* dzt = dzm + t * B * G;
    if ((sub - 1) % 2 == 0) {  // elementwise: dz_t for my units; dc carried back in place
      for (int64_t b = 0; b < B; ++b) {
        float* dzb = dzt + b * G;
        if (!mk[t * B + b]) {  // a masked step carried the state through untouched
          for (int g = 0; g < 4; ++g) std::memset(dzb + g * H + u0, 0, sizeof(float) * hk);
          continue;
        }
        const float* ab = act0 + m * 4 * TBH + (t * B + b) * G;
        const float* cp = t > 0 ? call0 + m * TBH + ((t - 1) * B + b) * H + u0 : zeros.data();
        cell_backward(hk, ab + u0, ab + H + u0, ab + 2 * H + u0, ab + 3 * H + u0,
                      call0 + m * TBH + (t * B + b) * H + u0, cp, dy0 + m * TBH + (t * B + b) * H + u0,
                      dh + b * H + u0, dc + b * H + u0, dzb + u0, dzb + H + u0, dzb + 2 * H + u0, dzb + 3 * H + u0);
      }
      return;
    }
    // dh[:, my units] = dz_t (B, 4H) @ W_h[u0:u1, :]^T; masked rows keep theirs
    float* tb = &tmp[lane * B * np_max];
    const int64_t ldt = packed ? np : hk;
    if (packed)
      gemm_packed(B, np, G, dzt, G, wt, tb, ldt, false);
    else
      gemm_rm(false, true, static_cast<int>(B), static_cast<int>(hk), static_cast<int>(G), dzt, static_cast<int>(G),
              wm + u0 * G, static_cast<int>(G), 0.0f, tb, static_cast<int>(ldt));
    for (int64_t b = 0; b < B; ++b)
      if (mk[t * B + b]) std::memcpy(dh + b * H + u0, &tb[b * ldt], sizeof(float) * hk);
  };
  run(tp, threads, work);
  return ffi::Error::Success();
}

}  // namespace

// (x_proj, w_h, mask) -> (ys, c, h); training adds (act, c_all, h_prev)
static auto forward_binding() {
  return ffi::Ffi::Bind()
      .Ctx<ffi::ThreadPool>()
      .Arg<ffi::Buffer<ffi::F32>>()
      .Arg<ffi::Buffer<ffi::F32>>()
      .Arg<ffi::Buffer<ffi::PRED>>()
      .Ret<ffi::Buffer<ffi::F32>>()
      .Ret<ffi::Buffer<ffi::F32>>()
      .Ret<ffi::Buffer<ffi::F32>>();
}

XLA_FFI_DEFINE_HANDLER_SYMBOL(jaxlstm_lstm_forward, LstmForward, forward_binding());

XLA_FFI_DEFINE_HANDLER_SYMBOL(jaxlstm_lstm_forward_train, LstmForwardTrain,
                              forward_binding().Ret<ffi::Buffer<ffi::F32>>().Ret<ffi::Buffer<ffi::F32>>().Ret<
                                  ffi::Buffer<ffi::F32>>());

XLA_FFI_DEFINE_HANDLER_SYMBOL(jaxlstm_lstm_backward, LstmBackward,
                              ffi::Ffi::Bind()
                                  .Ctx<ffi::ThreadPool>()
                                  .Arg<ffi::Buffer<ffi::F32>>()   // w_h
                                  .Arg<ffi::Buffer<ffi::PRED>>()  // mask
                                  .Arg<ffi::Buffer<ffi::F32>>()   // act
                                  .Arg<ffi::Buffer<ffi::F32>>()   // c_all
                                  .Arg<ffi::Buffer<ffi::F32>>()   // h_prev
                                  .Arg<ffi::Buffer<ffi::F32>>()   // d_ys
                                  .Arg<ffi::Buffer<ffi::F32>>()   // d_c
                                  .Arg<ffi::Buffer<ffi::F32>>()   // d_h
                                  .Ret<ffi::Buffer<ffi::F32>>()   // dz
                                  .Ret<ffi::Buffer<ffi::F32>>());  // d_w

// ---------------------------------------------------------------- Python module
namespace {

PyObject* capsule(void* fn) { return PyCapsule_New(fn, nullptr, nullptr); }

PyObject* registrations(PyObject*, PyObject*) {
  PyObject* d = PyDict_New();
  if (!d) return nullptr;
  struct {
    const char* name;
    void* fn;
  } targets[] = {{"jaxlstm_lstm_forward", reinterpret_cast<void*>(jaxlstm_lstm_forward)},
                 {"jaxlstm_lstm_forward_train", reinterpret_cast<void*>(jaxlstm_lstm_forward_train)},
                 {"jaxlstm_lstm_backward", reinterpret_cast<void*>(jaxlstm_lstm_backward)}};
  for (auto& t : targets) {
    PyObject* c = capsule(t.fn);
    if (!c || PyDict_SetItemString(d, t.name, c) < 0) {
      Py_XDECREF(c);
      Py_DECREF(d);
      return nullptr;
    }
    Py_DECREF(c);
  }
  return d;
}

// set_blas(sgemm_capsule): scipy.linalg.cython_blas.__pyx_capi__["sgemm"]
PyObject* set_blas(PyObject*, PyObject* cap) {
  void* fn = PyCapsule_GetPointer(cap, PyCapsule_GetName(cap));
  if (!fn) return nullptr;
  g_sgemm = reinterpret_cast<sgemm_t>(fn);
  Py_RETURN_NONE;
}

PyMethodDef methods[] = {
    {"registrations", registrations, METH_NOARGS, "FFI target name -> handler capsule."},
    {"set_blas", set_blas, METH_O, "Set sgemm from scipy.linalg.cython_blas' capsule."},
    {nullptr, nullptr, 0, nullptr}};

PyModuleDef module = {PyModuleDef_HEAD_INIT, "_lstm_cpu", "jaxlstm's whole-layer LSTM kernel for XLA:CPU.", -1,
                      methods};

}  // namespace

PyMODINIT_FUNC PyInit__lstm_cpu(void) { return PyModule_Create(&module); }
