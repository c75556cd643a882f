// Sanitizer defaults for binaries that hand hostile bytes to the HDF5 C library (Debian's
// 1.10.8, not instrumented). Include in exactly one translation unit per binary.
//
// * HDF5 asks malloc for sizes read from the file before it checks them against the end of
//   the file (seen in H5C_protect: 0xe7e7e7e7e7e7e7e7 bytes). Outside ASan such a malloc
//   returns NULL and HDF5 reports an error; ASan aborts instead unless told to return NULL.
// * HDF5 leaks a few dozen bytes on some error paths (seen: 56 bytes after a failed open).
//   Those leaks are suppressed; leaks anywhere else are still reported.
//
// libhdf5 now runs only in forked children (client/readers/hdf5_sandbox.h), which inherit
// these options: a child's huge malloc fails and HDF5 reports an error, as in a release build,
// instead of the child dying. Children end with _exit, so no leak check runs in them; the
// suppression stays for code that calls hdf5_file.h in process.
#ifndef HTSR_TESTS_FUZZ_HDF5_SANITIZER_HOOKS_H_
#define HTSR_TESTS_FUZZ_HDF5_SANITIZER_HOOKS_H_

extern "C" const char* __asan_default_options() { return "allocator_may_return_null=1"; }
extern "C" const char* __lsan_default_suppressions() { return "leak:libhdf5\n"; }

#endif  // HTSR_TESTS_FUZZ_HDF5_SANITIZER_HOOKS_H_
