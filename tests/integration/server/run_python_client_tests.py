"""Runs tests/integration/python with pytest; exit 77 (CTest "skipped") when this Python
lacks the client's dependencies, so a missing grpcio is visible rather than a pass."""
import importlib.util
import sys

missing = [m for m in ("grpc", "google.protobuf", "numpy", "pytest")
           if importlib.util.find_spec(m.split(".")[0]) is None]
if missing:
    print(f"skipped: {sys.executable} lacks {', '.join(missing)} "
          "(pip install grpcio protobuf numpy pytest)")
    sys.exit(77)
import pytest  # noqa: E402

sys.exit(pytest.main(["-q", "-rs", sys.argv[1]]))
