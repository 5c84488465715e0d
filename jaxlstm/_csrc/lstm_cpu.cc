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
// single-threaded on each of our threads. Members of a vmapped sweep arrive
// as leading dimensions and are spread over the threads; when there are
// fewer members than threads, each member's hidden units are split between
// a team of threads that meet at one barrier per time step.
//
// Layouts (row-major, time-major, gates ordered i, f, g, o):
//   x_proj (..., T, B, 4H)   w_h (..., H, 4H)   mask (..., T, B) bool
//   ys, h_prev, c_all (..., T, B, H)   act (..., T, B, 4H)   c, h (..., B, H)
// `...` is any number of member dimensions (one per vmap).

#include <Python.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <condition_variable>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <memory>
#include <mutex>
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

// ---------------------------------------------------------------- threads
// A fixed pool: run(fn) calls fn(tid) on every thread (the caller is tid 0)
// and returns when all are done. One kernel call at a time (XLA may run
// independent custom calls concurrently; spinning teams must not share cores).
class Pool {
 public:
  explicit Pool(int n) : n_(std::max(1, n)) {
    for (int t = 1; t < n_; ++t) workers_.emplace_back([this, t] { loop(t); });
  }
  ~Pool() {
    {
      std::lock_guard<std::mutex> lock(mu_);
      stop_ = true;
      ++gen_;
    }
    cv_.notify_all();
    for (auto& w : workers_) w.join();
  }
  int size() const { return n_; }
  void run(const std::function<void(int)>& fn) {
    std::lock_guard<std::mutex> call(call_mu_);
    {
      std::lock_guard<std::mutex> lock(mu_);
      fn_ = &fn;
      pending_ = n_ - 1;
      ++gen_;
    }
    cv_.notify_all();
    fn(0);
    std::unique_lock<std::mutex> lock(mu_);
    done_cv_.wait(lock, [this] { return pending_ == 0; });
    fn_ = nullptr;
  }

 private:
  void loop(int tid) {
    uint64_t seen = 0;
    for (;;) {
      const std::function<void(int)>* fn;
      {
        std::unique_lock<std::mutex> lock(mu_);
        cv_.wait(lock, [&] { return gen_ != seen; });
        seen = gen_;
        if (stop_) return;
        fn = fn_;
      }
      (*fn)(tid);
      std::lock_guard<std::mutex> lock(mu_);
      if (--pending_ == 0) done_cv_.notify_one();
    }
  }
  int n_;
  std::vector<std::thread> workers_;
  std::mutex mu_, call_mu_;
  std::condition_variable cv_, done_cv_;
  const std::function<void(int)>* fn_ = nullptr;
  int pending_ = 0;
  uint64_t gen_ = 0;
  bool stop_ = false;
};

int default_threads() {
  if (const char* env = std::getenv("JAXLSTM_KERNEL_THREADS")) {
    const int n = std::atoi(env);
    if (n > 0) return n;
  }
  const unsigned hw = std::thread::hardware_concurrency();
  return hw ? static_cast<int>(hw) : 1;
}

Pool& pool() {
  static Pool* p = new Pool(default_threads());  // leaked on purpose: no join at exit
  return *p;
}

// Spin barrier for a team; yields after a while so an oversubscribed
// machine still makes progress.
class Barrier {
 public:
  explicit Barrier(int n) : n_(n) {}
  void wait() {
    if (n_ == 1) return;
    const int gen = gen_.load(std::memory_order_acquire);
    if (count_.fetch_add(1, std::memory_order_acq_rel) + 1 == n_) {
      count_.store(0, std::memory_order_relaxed);
      gen_.fetch_add(1, std::memory_order_acq_rel);
      return;
    }
    for (int spins = 0; gen_.load(std::memory_order_acquire) == gen; ++spins) {
      if (spins > 4000) std::this_thread::yield();
    }
  }

 private:
  int n_;
  std::atomic<int> count_{0};
  std::atomic<int> gen_{0};
};

// Spreads `members` over the pool's P threads in rounds: while at least P
// members are left, each thread takes one member of the round alone; the
// R < P left over are split into R teams of P / R threads, each team sharing
// one member's hidden units (3 members on 2 threads: 2 alone, then 1 on both).
// for_each_member(P, M, fn) calls fn(member, team_size, rank, team_index) on
// every thread, for that thread's share.
template <typename Fn>
void for_each_member(int threads, int tid, int64_t members, const Fn& fn) {
  const int64_t full = members / threads * threads;
  for (int64_t m = tid; m < full; m += threads) fn(m, 1, 0, tid);
  const int rest = static_cast<int>(members - full);
  if (rest == 0) return;
  const int team = threads / rest, tm = tid / team;
  if (tm < rest) fn(full + tm, team, tid % team, threads + tm);
}

// One barrier per team: the first `threads` are unused singles, then the
// teams of the last round.
std::vector<std::unique_ptr<Barrier>> barriers(int threads, int64_t members) {
  std::vector<std::unique_ptr<Barrier>> bars;
  const int rest = static_cast<int>(members % threads);
  for (int k = 0; k < threads; ++k) bars.emplace_back(new Barrier(1));
  for (int k = 0; k < rest; ++k) bars.emplace_back(new Barrier(threads / rest));
  return bars;
}

inline void unit_range(int64_t hidden, int team, int rank, int64_t* u0, int64_t* u1) {
  // chunks are multiples of 16 floats (one AVX-512 vector) where possible
  int64_t chunk = (hidden + team - 1) / team;
  chunk = std::min(hidden, (chunk + 15) / 16 * 16);
  *u0 = std::min(hidden, rank * chunk);
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
template <bool kTrain>
void forward_member(const Dims& d, int team, int rank, Barrier& bar, const float* xp, const float* w,
                    const bool* mask, float* ys, float* c_out, float* h_out, float* act, float* c_all,
                    float* h_prev, float* hbuf /* 2*B*H, shared by the team */) {
  const int64_t T = d.T, B = d.B, H = d.H, G = 4 * H;
  int64_t u0, u1;
  unit_range(H, team, rank, &u0, &u1);
  const int64_t hk = u1 - u0;
  // this thread's columns of W_h, gate blocks side by side: (H, 4*hk)
  std::vector<float> wk(static_cast<size_t>(H * 4 * hk)), z(static_cast<size_t>(B * 4 * std::max<int64_t>(hk, 1)));
  for (int64_t r = 0; r < H; ++r)
    for (int g = 0; g < 4; ++g)
      std::memcpy(&wk[r * 4 * hk + g * hk], &w[r * G + g * H + u0], sizeof(float) * hk);
  float* c = c_out;  // the carried cell state lives in the output
  for (int64_t b = 0; b < B; ++b) {
    std::memset(c + b * H + u0, 0, sizeof(float) * hk);
    std::memset(hbuf + b * H + u0, 0, sizeof(float) * hk);
  }
  bar.wait();
  for (int64_t t = 0; t < T; ++t) {
    const float* hc = hbuf + (t % 2) * B * H;
    float* hn = hbuf + ((t + 1) % 2) * B * H;
    if (hk > 0) {
      // z (B, 4hk) = x_proj_t[:, my columns] + h_{t-1} W_k
      for (int64_t b = 0; b < B; ++b)
        for (int g = 0; g < 4; ++g)
          std::memcpy(&z[b * 4 * hk + g * hk], &xp[(t * B + b) * G + g * H + u0], sizeof(float) * hk);
      gemm_rm(false, false, static_cast<int>(B), static_cast<int>(4 * hk), static_cast<int>(H), hc,
              static_cast<int>(H), wk.data(), static_cast<int>(4 * hk), 1.0f, z.data(), static_cast<int>(4 * hk));
    }
    for (int64_t b = 0; b < B; ++b) {
      float* zb = &z[b * 4 * hk];
      const bool valid = mask[t * B + b];
      float* zi = zb;
      float* zf = zb + hk;
      float* zg = zb + 2 * hk;
      float* zo = zb + 3 * hk;
      for (int64_t j = 0; j < hk; ++j) {
        zi[j] = sigmoid(zi[j]);
        zf[j] = sigmoid(zf[j]);
        zg[j] = tanh_(zg[j]);
        zo[j] = sigmoid(zo[j]);
      }
      float* cb = c + b * H + u0;
      const float* hcb = hc + b * H + u0;
      float* hnb = hn + b * H + u0;
      float* yb = ys + (t * B + b) * H + u0;
      if (kTrain) {
        float* ab = act + (t * B + b) * G;
        for (int g = 0; g < 4; ++g) std::memcpy(ab + g * H + u0, zb + g * hk, sizeof(float) * hk);
        std::memcpy(h_prev + (t * B + b) * H + u0, hcb, sizeof(float) * hk);
      }
      if (valid) {
        cell_forward(hk, zi, zf, zg, zo, cb, hnb, yb);
      } else {
        std::memcpy(hnb, hcb, sizeof(float) * hk);
        std::memset(yb, 0, sizeof(float) * hk);
      }
      if (kTrain) std::memcpy(c_all + (t * B + b) * H + u0, cb, sizeof(float) * hk);
    }
    bar.wait();  // h_t complete before anyone multiplies by it
  }
  const float* hl = hbuf + (T % 2) * B * H;
  for (int64_t b = 0; b < B; ++b) std::memcpy(h_out + b * H + u0, hl + b * H + u0, sizeof(float) * hk);
}

template <bool kTrain>
ffi::Error forward_impl(ffi::Buffer<ffi::F32> xp, ffi::Buffer<ffi::F32> w, ffi::Buffer<ffi::PRED> mask,
                        ffi::ResultBuffer<ffi::F32> ys, ffi::ResultBuffer<ffi::F32> c_out,
                        ffi::ResultBuffer<ffi::F32> h_out, float* act, float* c_all, float* h_prev) {
  auto dims = layer_dims(xp, w, mask);
  if (dims.has_error()) return dims.error();
  const Dims d = dims.value();
  const int64_t TBH = d.T * d.B * d.H, BH = d.B * d.H;
  Pool& p = pool();
  const int P = p.size();
  auto bars = barriers(P, d.members);
  std::vector<float> hbuf(static_cast<size_t>(bars.size() * 2 * BH));
  const float* x0 = xp.typed_data();
  const float* w0 = w.typed_data();
  const bool* m0 = mask.typed_data();
  std::function<void(int)> fn = [&](int tid) {
    for_each_member(P, tid, d.members, [&](int64_t m, int team, int rank, int tm) {
      forward_member<kTrain>(d, team, rank, *bars[tm], x0 + m * 4 * TBH, w0 + m * 4 * d.H * d.H,
                             m0 + m * d.T * d.B, ys->typed_data() + m * TBH, c_out->typed_data() + m * BH,
                             h_out->typed_data() + m * BH, kTrain ? act + m * 4 * TBH : nullptr,
                             kTrain ? c_all + m * TBH : nullptr, kTrain ? h_prev + m * TBH : nullptr,
                             &hbuf[tm * 2 * BH]);
    });
  };
  p.run(fn);
  return ffi::Error::Success();
}

ffi::Error LstmForward(ffi::Buffer<ffi::F32> xp, ffi::Buffer<ffi::F32> w, ffi::Buffer<ffi::PRED> mask,
                       ffi::ResultBuffer<ffi::F32> ys, ffi::ResultBuffer<ffi::F32> c_out,
                       ffi::ResultBuffer<ffi::F32> h_out) {
  return forward_impl<false>(xp, w, mask, ys, c_out, h_out, nullptr, nullptr, nullptr);
}

ffi::Error LstmForwardTrain(ffi::Buffer<ffi::F32> xp, ffi::Buffer<ffi::F32> w, ffi::Buffer<ffi::PRED> mask,
                            ffi::ResultBuffer<ffi::F32> ys, ffi::ResultBuffer<ffi::F32> c_out,
                            ffi::ResultBuffer<ffi::F32> h_out, ffi::ResultBuffer<ffi::F32> act,
                            ffi::ResultBuffer<ffi::F32> c_all, ffi::ResultBuffer<ffi::F32> h_prev) {
  return forward_impl<true>(xp, w, mask, ys, c_out, h_out, act->typed_data(), c_all->typed_data(),
                            h_prev->typed_data());
}

// ---------------------------------------------------------------- backward
void backward_member(const Dims& d, int team, int rank, Barrier& bar, const float* w, const bool* mask,
                     const float* act, const float* c_all, const float* h_prev, const float* d_ys, const float* d_c,
                     const float* d_h, float* dz, float* d_w, float* dh /* B*H shared */, float* dc /* B*H shared */) {
  const int64_t T = d.T, B = d.B, H = d.H, G = 4 * H;
  int64_t u0, u1;
  unit_range(H, team, rank, &u0, &u1);
  const int64_t hk = u1 - u0;
  std::vector<float> tmp(static_cast<size_t>(B * std::max<int64_t>(hk, 1))), zeros(static_cast<size_t>(std::max<int64_t>(hk, 1)));
  for (int64_t b = 0; b < B; ++b) {
    std::memcpy(dc + b * H + u0, d_c + b * H + u0, sizeof(float) * hk);
    std::memcpy(dh + b * H + u0, d_h + b * H + u0, sizeof(float) * hk);
  }
  for (int64_t t = T - 1; t >= 0; --t) {
    float* dzt = dz + t * B * G;
    for (int64_t b = 0; b < B; ++b) {
      float* dzb = dzt + b * G;
      if (!mask[t * B + b]) {  // a masked step carried the state through untouched
        for (int g = 0; g < 4; ++g) std::memset(dzb + g * H + u0, 0, sizeof(float) * hk);
        continue;
      }
      const float* ab = act + (t * B + b) * G;
      const float* cp = t > 0 ? c_all + ((t - 1) * B + b) * H + u0 : zeros.data();
      cell_backward(hk, ab + u0, ab + H + u0, ab + 2 * H + u0, ab + 3 * H + u0, c_all + (t * B + b) * H + u0, cp,
                    d_ys + (t * B + b) * H + u0, dh + b * H + u0, dc + b * H + u0, dzb + u0, dzb + H + u0,
                    dzb + 2 * H + u0, dzb + 3 * H + u0);
    }
    bar.wait();  // dz_t complete (all units) before dh = dz_t W_h^T
    if (hk > 0) {
      // tmp (B, hk) = dz_t (B, 4H) @ W_h[u0:u1, :]^T
      gemm_rm(false, true, static_cast<int>(B), static_cast<int>(hk), static_cast<int>(G), dzt, static_cast<int>(G),
              w + u0 * G, static_cast<int>(G), 0.0f, tmp.data(), static_cast<int>(hk));
      for (int64_t b = 0; b < B; ++b)
        if (mask[t * B + b]) std::memcpy(dh + b * H + u0, &tmp[b * hk], sizeof(float) * hk);
    }
    // no barrier: the next step's elementwise part reads only this thread's dh, dc
  }
  bar.wait();  // all of dz written
  // dW_h (H, 4H) = sum_t h_{t-1}^T dz_t: one GEMM over all T*B rows; this
  // thread takes its share of the 4H columns.
  const int64_t cols = (G + team - 1) / team, c0 = std::min(G, rank * cols), c1 = std::min(G, c0 + cols);
  if (c1 > c0)
    gemm_rm(true, false, static_cast<int>(H), static_cast<int>(c1 - c0), static_cast<int>(T * B), h_prev,
            static_cast<int>(H), dz + c0, static_cast<int>(G), 0.0f, d_w + c0, static_cast<int>(G));
}

ffi::Error LstmBackward(ffi::Buffer<ffi::F32> w, ffi::Buffer<ffi::PRED> mask, ffi::Buffer<ffi::F32> act,
                        ffi::Buffer<ffi::F32> c_all, ffi::Buffer<ffi::F32> h_prev, ffi::Buffer<ffi::F32> d_ys,
                        ffi::Buffer<ffi::F32> d_c, ffi::Buffer<ffi::F32> d_h, ffi::ResultBuffer<ffi::F32> dz,
                        ffi::ResultBuffer<ffi::F32> d_w) {
  auto dims = layer_dims(act, w, mask);
  if (dims.has_error()) return dims.error();
  const Dims d = dims.value();
  if (d_ys.element_count() != static_cast<size_t>(d.members * d.T * d.B * d.H) ||
      c_all.element_count() != d_ys.element_count() || h_prev.element_count() != d_ys.element_count() ||
      d_w->element_count() != w.element_count() ||
      d_c.element_count() != static_cast<size_t>(d.members * d.B * d.H) || d_h.element_count() != d_c.element_count())
    return ffi::Error::InvalidArgument("lstm kernel backward: cotangent shapes do not match");
  const int64_t TBH = d.T * d.B * d.H, BH = d.B * d.H;
  Pool& p = pool();
  const int P = p.size();
  auto bars = barriers(P, d.members);
  std::vector<float> state(static_cast<size_t>(bars.size() * 2 * BH));
  std::function<void(int)> fn = [&](int tid) {
    for_each_member(P, tid, d.members, [&](int64_t m, int team, int rank, int tm) {
      backward_member(d, team, rank, *bars[tm], w.typed_data() + m * 4 * d.H * d.H,
                      mask.typed_data() + m * d.T * d.B, act.typed_data() + m * 4 * TBH,
                      c_all.typed_data() + m * TBH, h_prev.typed_data() + m * TBH, d_ys.typed_data() + m * TBH,
                      d_c.typed_data() + m * BH, d_h.typed_data() + m * BH, dz->typed_data() + m * 4 * TBH,
                      d_w->typed_data() + m * 4 * d.H * d.H, &state[tm * 2 * BH],
                      &state[tm * 2 * BH + BH]);
    });
  };
  p.run(fn);
  return ffi::Error::Success();
}

}  // namespace

XLA_FFI_DEFINE_HANDLER_SYMBOL(jaxlstm_lstm_forward, LstmForward,
                              ffi::Ffi::Bind()
                                  .Arg<ffi::Buffer<ffi::F32>>()
                                  .Arg<ffi::Buffer<ffi::F32>>()
                                  .Arg<ffi::Buffer<ffi::PRED>>()
                                  .Ret<ffi::Buffer<ffi::F32>>()
                                  .Ret<ffi::Buffer<ffi::F32>>()
                                  .Ret<ffi::Buffer<ffi::F32>>());

XLA_FFI_DEFINE_HANDLER_SYMBOL(jaxlstm_lstm_forward_train, LstmForwardTrain,
                              ffi::Ffi::Bind()
                                  .Arg<ffi::Buffer<ffi::F32>>()
                                  .Arg<ffi::Buffer<ffi::F32>>()
                                  .Arg<ffi::Buffer<ffi::PRED>>()
                                  .Ret<ffi::Buffer<ffi::F32>>()
                                  .Ret<ffi::Buffer<ffi::F32>>()
                                  .Ret<ffi::Buffer<ffi::F32>>()
                                  .Ret<ffi::Buffer<ffi::F32>>()
                                  .Ret<ffi::Buffer<ffi::F32>>()
                                  .Ret<ffi::Buffer<ffi::F32>>());

XLA_FFI_DEFINE_HANDLER_SYMBOL(jaxlstm_lstm_backward, LstmBackward,
                              ffi::Ffi::Bind()
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

PyObject* num_threads(PyObject*, PyObject*) { return PyLong_FromLong(pool().size()); }

PyMethodDef methods[] = {
    {"registrations", registrations, METH_NOARGS, "FFI target name -> handler capsule."},
    {"set_blas", set_blas, METH_O, "Set sgemm from scipy.linalg.cython_blas' capsule."},
    {"num_threads", num_threads, METH_NOARGS, "Threads the kernel spreads its work over."},
    {nullptr, nullptr, 0, nullptr}};

PyModuleDef module = {PyModuleDef_HEAD_INIT, "_lstm_cpu", "jaxlstm's whole-layer LSTM kernel for XLA:CPU.", -1,
                      methods};

}  // namespace

PyMODINIT_FUNC PyInit__lstm_cpu(void) { return PyModule_Create(&module); }
