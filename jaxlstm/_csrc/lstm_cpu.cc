// Whole-layer LSTM recurrence for XLA:CPU, called through the XLA FFI.
//
// jaxlstm.model.lstm_scan runs the recurrence as a lax.scan; XLA:CPU runs
// each step's small `h @ W_h` at ~40 % of a BLAS and pays a per-iteration
// overhead. This file runs all T steps in one call, as oneDNN and cuDNN do:
//
//   forward   z_t = x_proj_t + h_{t-1} W_h ; gates ; c_t, h_t
//   backward  dz_t from (dh, dc), then dh_{t-1} = dz_t W_h^T
//
// The input projection (`x W_x + b`) and the weight gradient
// (`dW_h = sum_t h_{t-1}^T dz_t`) stay outside, one large XLA matmul each.
// GEMMs are SciPy's OpenBLAS `sgemm` (its pointer is handed over from
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
using sgemm_t = void (*)(const char*, const char*, const int*, const int*, const int*, const float*,
                         const float*, const int*, const float*, const int*, const float*, float*,
                         const int*);
using set_threads_t = void (*)(int);
using get_threads_t = int (*)();
sgemm_t g_sgemm = nullptr;
set_threads_t g_set_threads = nullptr;  // OpenBLAS' own thread count (may be null)
get_threads_t g_get_threads = nullptr;

// Our threads each run single-threaded GEMMs: OpenBLAS' pool is set to one
// thread for the duration of a kernel call and restored afterwards.
class SingleThreadedBlas {
 public:
  SingleThreadedBlas() : prev_(g_get_threads && g_set_threads ? g_get_threads() : 1) {
    if (prev_ != 1) g_set_threads(1);
  }
  ~SingleThreadedBlas() {
    if (prev_ != 1) g_set_threads(prev_);
  }

 private:
  int prev_;
};

// Row-major C (m x n) = alpha * op(A) op(B) + beta * C, through Fortran sgemm
// (column-major): C^T = op(B)^T op(A)^T.
inline void gemm_rm(bool trans_a, bool trans_b, int m, int n, int k, const float* a, int lda,
                    const float* b, int ldb, float beta, float* c, int ldc) {
  const char ta = trans_b ? 'T' : 'N', tb = trans_a ? 'T' : 'N';
  const float alpha = 1.0f;
  g_sgemm(&ta, &tb, &n, &m, &k, &alpha, b, &ldb, a, &lda, &beta, c, &ldc);
}

// ---------------------------------------------------------------- math
// exp on the vector units: Cody-Waite range reduction + degree-6 polynomial
// (relative error ~2e-7); written so GCC vectorises the loops that call it.
inline float fast_exp(float x) {
  x = std::min(88.0f, std::max(-88.0f, x));
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
    SingleThreadedBlas blas;
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

// Splits `members` over the pool: teams of `team` threads each take members
// round-robin; within a team, thread `rank` owns hidden units [u0, u1).
struct Plan {
  int team, teams;
};
Plan plan_for(int64_t members, int threads) {
  const int team = members >= threads ? 1 : static_cast<int>(threads / std::max<int64_t>(1, members));
  return {team, threads / team};
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
        for (int64_t j = 0; j < hk; ++j) {
          const float cn = zf[j] * cb[j] + zi[j] * zg[j];
          const float hv = zo[j] * tanh_(cn);
          cb[j] = cn;
          hnb[j] = hv;
          yb[j] = hv;
        }
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
  const Plan plan = plan_for(d.members, p.size());
  std::vector<std::unique_ptr<Barrier>> bars;
  for (int k = 0; k < plan.teams; ++k) bars.emplace_back(new Barrier(plan.team));
  std::vector<float> hbuf(static_cast<size_t>(plan.teams * 2 * BH));
  const float* x0 = xp.typed_data();
  const float* w0 = w.typed_data();
  const bool* m0 = mask.typed_data();
  std::function<void(int)> fn = [&](int tid) {
    const int tm = tid / plan.team, rank = tid % plan.team;
    if (tm >= plan.teams) return;
    for (int64_t m = tm; m < d.members; m += plan.teams) {
      forward_member<kTrain>(d, plan.team, rank, *bars[tm], x0 + m * 4 * TBH, w0 + m * 4 * d.H * d.H,
                             m0 + m * d.T * d.B, ys->typed_data() + m * TBH, c_out->typed_data() + m * BH,
                             h_out->typed_data() + m * BH, kTrain ? act + m * 4 * TBH : nullptr,
                             kTrain ? c_all + m * TBH : nullptr, kTrain ? h_prev + m * TBH : nullptr,
                             &hbuf[tm * 2 * BH]);
    }
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
                     const float* act, const float* c_all, const float* d_ys, const float* d_c,
                     const float* d_h, float* dz, float* dh /* B*H shared */, float* dc /* B*H shared */) {
  const int64_t T = d.T, B = d.B, H = d.H, G = 4 * H;
  int64_t u0, u1;
  unit_range(H, team, rank, &u0, &u1);
  const int64_t hk = u1 - u0;
  std::vector<float> tmp(static_cast<size_t>(B * std::max<int64_t>(hk, 1)));
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
      const float *ai = ab + u0, *af = ab + H + u0, *ag = ab + 2 * H + u0, *ao = ab + 3 * H + u0;
      const float* ct = c_all + (t * B + b) * H + u0;
      const float* cp = t > 0 ? c_all + ((t - 1) * B + b) * H + u0 : nullptr;
      const float* dy = d_ys + (t * B + b) * H + u0;
      float* dhb = dh + b * H + u0;
      float* dcb = dc + b * H + u0;
      float *dzi = dzb + u0, *dzf = dzb + H + u0, *dzg = dzb + 2 * H + u0, *dzo = dzb + 3 * H + u0;
      for (int64_t j = 0; j < hk; ++j) {
        const float dhn = dhb[j] + dy[j];
        const float tc = tanh_(ct[j]);
        const float o = ao[j], i = ai[j], f = af[j], g = ag[j];
        const float dcn = dcb[j] + dhn * o * (1.0f - tc * tc);
        const float c_prev = cp ? cp[j] : 0.0f;
        dzi[j] = dcn * g * i * (1.0f - i);
        dzf[j] = dcn * c_prev * f * (1.0f - f);
        dzg[j] = dcn * i * (1.0f - g * g);
        dzo[j] = dhn * tc * o * (1.0f - o);
        dcb[j] = dcn * f;
      }
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
  bar.wait();
}

ffi::Error LstmBackward(ffi::Buffer<ffi::F32> w, ffi::Buffer<ffi::PRED> mask, ffi::Buffer<ffi::F32> act,
                        ffi::Buffer<ffi::F32> c_all, ffi::Buffer<ffi::F32> d_ys, ffi::Buffer<ffi::F32> d_c,
                        ffi::Buffer<ffi::F32> d_h, ffi::ResultBuffer<ffi::F32> dz) {
  auto dims = layer_dims(act, w, mask);
  if (dims.has_error()) return dims.error();
  const Dims d = dims.value();
  if (d_ys.element_count() != static_cast<size_t>(d.members * d.T * d.B * d.H) ||
      c_all.element_count() != d_ys.element_count() ||
      d_c.element_count() != static_cast<size_t>(d.members * d.B * d.H) || d_h.element_count() != d_c.element_count())
    return ffi::Error::InvalidArgument("lstm kernel backward: cotangent shapes do not match");
  const int64_t TBH = d.T * d.B * d.H, BH = d.B * d.H;
  Pool& p = pool();
  const Plan plan = plan_for(d.members, p.size());
  std::vector<std::unique_ptr<Barrier>> bars;
  for (int k = 0; k < plan.teams; ++k) bars.emplace_back(new Barrier(plan.team));
  std::vector<float> state(static_cast<size_t>(plan.teams * 2 * BH));
  std::function<void(int)> fn = [&](int tid) {
    const int tm = tid / plan.team, rank = tid % plan.team;
    if (tm >= plan.teams) return;
    for (int64_t m = tm; m < d.members; m += plan.teams) {
      backward_member(d, plan.team, rank, *bars[tm], w.typed_data() + m * 4 * d.H * d.H,
                      mask.typed_data() + m * d.T * d.B, act.typed_data() + m * 4 * TBH,
                      c_all.typed_data() + m * TBH, d_ys.typed_data() + m * TBH, d_c.typed_data() + m * BH,
                      d_h.typed_data() + m * BH, dz->typed_data() + m * 4 * TBH, &state[tm * 2 * BH],
                      &state[tm * 2 * BH + BH]);
    }
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
                                  .Arg<ffi::Buffer<ffi::F32>>()
                                  .Arg<ffi::Buffer<ffi::PRED>>()
                                  .Arg<ffi::Buffer<ffi::F32>>()
                                  .Arg<ffi::Buffer<ffi::F32>>()
                                  .Arg<ffi::Buffer<ffi::F32>>()
                                  .Arg<ffi::Buffer<ffi::F32>>()
                                  .Arg<ffi::Buffer<ffi::F32>>()
                                  .Ret<ffi::Buffer<ffi::F32>>());

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

// set_blas(sgemm_capsule, get_num_threads_address, set_num_threads_address); 0 = unknown
PyObject* set_blas(PyObject*, PyObject* args) {
  PyObject* cap;
  unsigned long long get_fn = 0, set_fn = 0;
  if (!PyArg_ParseTuple(args, "O|KK", &cap, &get_fn, &set_fn)) return nullptr;
  const char* name = PyCapsule_GetName(cap);
  void* fn = PyCapsule_GetPointer(cap, name);
  if (!fn) return nullptr;
  g_sgemm = reinterpret_cast<sgemm_t>(fn);
  g_get_threads = reinterpret_cast<get_threads_t>(static_cast<uintptr_t>(get_fn));
  g_set_threads = reinterpret_cast<set_threads_t>(static_cast<uintptr_t>(set_fn));
  Py_RETURN_NONE;
}

PyObject* num_threads(PyObject*, PyObject*) { return PyLong_FromLong(pool().size()); }

PyMethodDef methods[] = {
    {"registrations", registrations, METH_NOARGS, "FFI target name -> handler capsule."},
    {"set_blas", set_blas, METH_VARARGS, "Set sgemm (a cython_blas capsule) and OpenBLAS get/set_num_threads addresses."},
    {"num_threads", num_threads, METH_NOARGS, "Threads the kernel spreads its work over."},
    {nullptr, nullptr, 0, nullptr}};

PyModuleDef module = {PyModuleDef_HEAD_INIT, "_lstm_cpu", "jaxlstm's whole-layer LSTM kernel for XLA:CPU.", -1,
                      methods};

}  // namespace

PyMODINIT_FUNC PyInit__lstm_cpu(void) { return PyModule_Create(&module); }
