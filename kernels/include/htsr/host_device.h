// Code shared by the host and a CUDA kernel: the HTSR_HOST_DEVICE annotation and the few
// math functions such code calls. No CUDA types: a plain C++ compiler sees ordinary inline
// functions.
//
// The math wrappers exist because neither spelling works on both sides: std::exp has no
// device version, and ::exp on the host is the C double function (a long double argument
// would silently be rounded to double). In the device pass (__CUDA_ARCH__) they call CUDA's
// double functions; in every host pass the std:: overload of the argument's type, so a host
// instantiation computes exactly what the code did before it was shared.
//
// Templates instantiated with long double must be used from host code only (nvcc refuses
// long double in device code); the device instantiates double.
#ifndef HTSR_HOST_DEVICE_H_
#define HTSR_HOST_DEVICE_H_

#include <cmath>
#include <limits>

#if defined(__CUDACC__)
#define HTSR_HOST_DEVICE __host__ __device__
#else
#define HTSR_HOST_DEVICE
#endif

// A floating literal of type T written once: `HTSR_REAL(T, 1e-3)` is 1e-3L converted to T on
// the host (long double code keeps its long double constants) and the double 1e-3 in device
// code, where no long double may appear.
#if defined(__CUDA_ARCH__)
#define HTSR_REAL(T, x) static_cast<T>(x)
#else
#define HTSR_REAL(T, x) static_cast<T>(x##L)
#endif

namespace htsr::hd {

#if defined(__CUDA_ARCH__)
#define HTSR_HD_UNARY(Name, device_fn, host_fn) \
  template <typename T>                         \
  HTSR_HOST_DEVICE inline T Name(T x) {         \
    return ::device_fn(x);                      \
  }
#else
#define HTSR_HD_UNARY(Name, device_fn, host_fn) \
  template <typename T>                         \
  HTSR_HOST_DEVICE inline T Name(T x) {         \
    return std::host_fn(x);                     \
  }
#endif

HTSR_HD_UNARY(Exp, exp, exp)
HTSR_HD_UNARY(Expm1, expm1, expm1)
HTSR_HD_UNARY(Log, log, log)
HTSR_HD_UNARY(Fabs, fabs, fabs)
HTSR_HD_UNARY(Floor, floor, floor)
HTSR_HD_UNARY(Sqrt, sqrt, sqrt)
HTSR_HD_UNARY(Tgamma, tgamma, tgamma)
#undef HTSR_HD_UNARY

template <typename T>
HTSR_HOST_DEVICE inline T Copysign(T magnitude, T sign) {
#if defined(__CUDA_ARCH__)
  return ::copysign(magnitude, sign);
#else
  return std::copysign(magnitude, sign);
#endif
}

template <typename T>
HTSR_HOST_DEVICE inline bool IsFinite(T x) {
#if defined(__CUDA_ARCH__)
  return isfinite(x);
#else
  return std::isfinite(x);
#endif
}

template <typename T>
HTSR_HOST_DEVICE inline bool IsNan(T x) {
#if defined(__CUDA_ARCH__)
  return isnan(x);
#else
  return std::isnan(x);
#endif
}

// std::numeric_limits<T>::epsilon(): constexpr, so the same relaxed-constexpr caveat as below.
template <typename T>
HTSR_HOST_DEVICE inline T Epsilon() {
#if defined(__CUDA_ARCH__)
  return static_cast<T>(2.220446049250313080847263336181640625e-16);  // DBL_EPSILON
#else
  return std::numeric_limits<T>::epsilon();
#endif
}

// std::min / std::max / std::clamp are constexpr, but calling them from device code needs
// --expt-relaxed-constexpr in every target that includes these headers; these do not.
template <typename T>
HTSR_HOST_DEVICE inline T Min(T a, T b) {
  return b < a ? b : a;
}
template <typename T>
HTSR_HOST_DEVICE inline T Max(T a, T b) {
  return a < b ? b : a;
}
template <typename T>
HTSR_HOST_DEVICE inline T Clamp(T x, T lo, T hi) {
  return x < lo ? lo : (hi < x ? hi : x);
}

}  // namespace htsr::hd

#endif  // HTSR_HOST_DEVICE_H_
