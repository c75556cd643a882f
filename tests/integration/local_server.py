"""An htsr-server on 127.0.0.1 for the CLI integration tests that compare remote mode with
embedded mode (remote_cli_test, base_delta_cli_test, lora_base_test)."""
import contextlib
import os
import subprocess
import time


@contextlib.contextmanager
def local_server(binary, tmp, timeout=30):
    """Starts `binary` on an ephemeral loopback port (CPU device, no call log) and yields its
    address; its stderr goes to a file in `tmp` (a pipe nobody reads could fill and block it).
    Raises RuntimeError, with the log's tail, when it does not start within `timeout` s."""
    port_file = os.path.join(tmp, "server.port")
    log_path = os.path.join(tmp, "server.log")
    with open(log_path, "w") as log:
        proc = subprocess.Popen([binary, "--listen", "127.0.0.1:0", "--port-file", port_file,
                                 "--device", "cpu", "--log_calls=false"],
                                stdout=subprocess.DEVNULL, stderr=log)
    try:
        deadline = time.time() + timeout
        while not (os.path.exists(port_file) and open(port_file).read().strip()):
            if proc.poll() is not None or time.time() > deadline:
                with open(log_path) as f:
                    raise RuntimeError(f"htsr-server did not start: {f.read()[-2000:]}")
            time.sleep(0.05)
        yield "127.0.0.1:" + open(port_file).read().strip()
    finally:
        proc.terminate()
        proc.wait(timeout=30)
