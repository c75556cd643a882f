// Brent's one-dimensional root finder and minimiser (Numerical Recipes' zbrent and brent),
// as HTSR_HOST_DEVICE templates on the floating type: the host TPL fit runs them in long
// double, the CUDA TPL scan in double (docs/spec.md §3a).
#ifndef HTSR_BRENT_H_
#define HTSR_BRENT_H_

#include "htsr/host_device.h"

namespace htsr::brent {

// A root of f in [a, b], f(a) = fa and f(b) = fb of opposite signs, to `tol`.
template <typename T, typename F>
HTSR_HOST_DEVICE T FindRoot(F&& f, T a, T b, T fa, T fb, T tol) {
  T c = b, fc = fb, d = b - a, e = d;
  for (int iter = 0; iter < 200; ++iter) {
    if ((fb > 0) == (fc > 0)) {
      c = a;
      fc = fa;
      e = d = b - a;
    }
    if (hd::Fabs(fc) < hd::Fabs(fb)) {
      a = b;
      b = c;
      c = a;
      fa = fb;
      fb = fc;
      fc = fa;
    }
    const T tol1 = 2 * hd::Epsilon<T>() * hd::Fabs(b) + tol / 2;
    const T xm = (c - b) / 2;
    if (hd::Fabs(xm) <= tol1 || fb == 0) return b;
    if (hd::Fabs(e) >= tol1 && hd::Fabs(fa) > hd::Fabs(fb)) {
      const T s = fb / fa;
      T p, q;
      if (a == c) {
        p = 2 * xm * s;
        q = 1 - s;
      } else {
        const T qq = fa / fc, r = fb / fc;
        p = s * (2 * xm * qq * (qq - r) - (b - a) * (r - 1));
        q = (qq - 1) * (r - 1) * (s - 1);
      }
      if (p > 0) q = -q;
      p = hd::Fabs(p);
      if (2 * p < hd::Min(3 * xm * q - hd::Fabs(tol1 * q), hd::Fabs(e * q))) {
        e = d;
        d = p / q;
      } else {
        d = xm;
        e = d;
      }
    } else {
      d = xm;
      e = d;
    }
    a = b;
    fa = fb;
    b += hd::Fabs(d) > tol1 ? d : hd::Copysign(tol1, xm);
    fb = f(b);
  }
  return b;
}

// The minimum of f on [a, b] from the start x (a < x < b) to relative `tol`; *fmin = f there.
template <typename T, typename F>
HTSR_HOST_DEVICE T Minimize(F&& f, T a, T b, T x, T tol, T* fmin) {
  const T kGold = HTSR_REAL(T, 0.3819660112501051518), kZeps = HTSR_REAL(T, 1e-18);
  T d = 0, e = 0;
  T w = x, v = x, fx = f(x), fw = fx, fv = fx;
  for (int iter = 0; iter < 200; ++iter) {
    const T xm = (a + b) / 2, tol1 = tol * hd::Fabs(x) + kZeps, tol2 = 2 * tol1;
    if (hd::Fabs(x - xm) <= tol2 - (b - a) / 2) break;
    if (hd::Fabs(e) > tol1) {
      T r = (x - w) * (fx - fv), q = (x - v) * (fx - fw), p = (x - v) * q - (x - w) * r;
      q = 2 * (q - r);
      if (q > 0) p = -p;
      q = hd::Fabs(q);
      const T etemp = e;
      e = d;
      if (hd::Fabs(p) >= hd::Fabs(q * etemp / 2) || p <= q * (a - x) || p >= q * (b - x)) {
        e = x >= xm ? a - x : b - x;
        d = kGold * e;
      } else {
        d = p / q;
        const T u = x + d;
        if (u - a < tol2 || b - u < tol2) d = hd::Copysign(tol1, xm - x);
      }
    } else {
      e = x >= xm ? a - x : b - x;
      d = kGold * e;
    }
    const T u = hd::Fabs(d) >= tol1 ? x + d : x + hd::Copysign(tol1, d);
    const T fu = f(u);
    if (fu <= fx) {
      if (u >= x) {
        a = x;
      } else {
        b = x;
      }
      v = w;
      w = x;
      x = u;
      fv = fw;
      fw = fx;
      fx = fu;
    } else {
      if (u < x) {
        a = u;
      } else {
        b = u;
      }
      if (fu <= fw || w == x) {
        v = w;
        w = u;
        fv = fw;
        fw = fu;
      } else if (fu <= fv || v == x || v == w) {
        v = u;
        fv = fu;
      }
    }
  }
  *fmin = fx;
  return x;
}

}  // namespace htsr::brent

#endif  // HTSR_BRENT_H_
