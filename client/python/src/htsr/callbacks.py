"""Training-loop callbacks: analyse the model every N steps on a CPU copy of its weights,
in a background thread (the engine releases the GIL, so training goes on), log the summary
metrics through the trainer's loggers, and optionally stop training when a policy file
(`htsr check`'s format) is violated.

    from htsr.callbacks import HtsrTrainerCallback, HtsrLightningCallback
    trainer = transformers.Trainer(..., callbacks=[HtsrTrainerCallback(every_n_steps=500,
                                                                       policy="gate.yaml")])
    trainer = lightning.Trainer(callbacks=[HtsrLightningCallback(every_n_steps=500)])

Metrics are logged as htsr/alpha, htsr/alpha_weighted, htsr/log_norm, ... (the summary).
"""

from __future__ import annotations

import atexit
import threading
import weakref
from typing import Any, Dict, List, Optional, Tuple

from . import _analyze

_METRICS = ("alpha", "alpha_weighted", "log_norm", "log_alpha_norm", "log_spectral_norm",
            "stable_rank", "num_analyzed", "num_failed", "num_under_trained",
            "num_over_trained")


def cpu_copy(model: Any) -> Dict[str, Any]:
    """A CPU copy of the floating weights (taken on the training thread, so the background
    analysis sees one step's weights)."""
    sd = model.state_dict() if hasattr(model, "state_dict") else model
    out = {}
    for k, v in sd.items():
        if hasattr(v, "detach"):
            if v.is_floating_point() and v.dim() >= 2:
                out[k] = v.detach().to("cpu", copy=True)
        elif hasattr(v, "ndim") and v.ndim >= 2:
            out[k] = v.copy()
    return out


class Monitor:
    """The framework-free part: submit(step, model) every N steps, poll() for results."""

    def __init__(self, every_n_steps: int = 100, policy: Optional[str] = None,
                 stop_on_violation: bool = True, prefix: str = "htsr/", **options: Any):
        if every_n_steps < 1:
            raise ValueError("every_n_steps must be >= 1")
        self.every_n_steps = every_n_steps
        self.policy = policy
        self.stop_on_violation = stop_on_violation and policy is not None
        self.prefix = prefix
        self.options = options
        self._thread: Optional[threading.Thread] = None
        self._done: List[Tuple[int, Dict[str, float], List[str]]] = []
        self._lock = threading.Lock()
        self.history: List[Tuple[int, Dict[str, float], List[str]]] = []
        self.violations: List[str] = []
        self.errors: List[str] = []

    def due(self, step: int) -> bool:
        return step > 0 and step % self.every_n_steps == 0

    def submit(self, step: int, model: Any) -> bool:
        """Starts an analysis of `model` at `step` unless one is still running."""
        if self._thread is not None and self._thread.is_alive():
            return False
        weights = cpu_copy(model)
        self._thread = threading.Thread(target=self._work, args=(step, weights),
                                        name=f"htsr-step-{step}", daemon=True)
        self._thread.start()
        # An analysis still running at exit is waited for before the interpreter shuts
        # down (its workers take the GIL to release buffers).
        atexit.register(_join_thread, weakref.ref(self._thread))
        return True

    def _work(self, step: int, weights: Dict[str, Any]) -> None:
        try:
            from . import _htsr
            report = _analyze.run(weights, progress=False, **self.options)
            summary = report.summary()
            metrics = {self.prefix + k: float(summary[k]) for k in _METRICS if k in summary}
            broken = []
            if self.policy is not None:
                broken = [v[3] for v in _htsr.check_policy(report, self.policy)]
            result = (step, metrics, broken)
        except Exception as e:  # noqa: BLE001 - reported, never raised into training
            result = (step, {}, [])
            with self._lock:
                self.errors.append(f"step {step}: {type(e).__name__}: {e}")
        with self._lock:
            self._done.append(result)

    def poll(self) -> List[Tuple[int, Dict[str, float], List[str]]]:
        """Finished analyses since the last poll: (step, metrics, policy violations)."""
        with self._lock:
            done, self._done = self._done, []
        for step, metrics, broken in done:
            self.history.append((step, metrics, broken))
            self.violations.extend(f"step {step}: {b}" for b in broken)
        return done

    def should_stop(self, done) -> bool:
        return self.stop_on_violation and any(broken for _, _, broken in done)

    def join(self) -> None:
        if self._thread is not None:
            self._thread.join()


def _join_thread(ref) -> None:
    t = ref()
    if t is not None and t.is_alive():
        t.join()


def _transformers_base():
    try:
        from transformers import TrainerCallback
    except ImportError as e:
        raise ImportError(f"HtsrTrainerCallback needs transformers ({e})") from None
    return TrainerCallback


def HtsrTrainerCallback(every_n_steps: int = 100, policy: Optional[str] = None,
                        stop_on_violation: bool = True, trainer: Any = None, **options: Any):
    """A transformers TrainerCallback (see the module's doc). With `trainer`, metrics go
    through trainer.log (every reporting integration); else into state.log_history."""
    base = _transformers_base()

    class _Callback(base):
        def __init__(self):
            self.monitor = Monitor(every_n_steps, policy, stop_on_violation, **options)
            self.trainer = trainer

        def _report(self, state, control):
            done = self.monitor.poll()
            for step, metrics, _ in done:
                if not metrics:
                    continue
                if self.trainer is not None:
                    self.trainer.log(dict(metrics))
                else:
                    state.log_history.append({**metrics, "step": step})
            if self.monitor.should_stop(done):
                control.should_training_stop = True
            return control

        def on_step_end(self, args, state, control, model=None, **kwargs):
            if model is not None and self.monitor.due(state.global_step):
                self.monitor.submit(state.global_step, model)
            return self._report(state, control)

        def on_train_end(self, args, state, control, **kwargs):
            self.monitor.join()
            return self._report(state, control)

    return _Callback()


def _lightning_base():
    for mod in ("lightning.pytorch", "pytorch_lightning"):
        try:
            return __import__(mod, fromlist=["Callback"]).Callback
        except ImportError:
            continue
    raise ImportError("HtsrLightningCallback needs lightning (or pytorch_lightning)")


def HtsrLightningCallback(every_n_steps: int = 100, policy: Optional[str] = None,
                          stop_on_violation: bool = True, **options: Any):
    """A Lightning Callback (see the module's doc): metrics to every trainer.loggers."""
    base = _lightning_base()

    class _Callback(base):
        def __init__(self):
            super().__init__()
            self.monitor = Monitor(every_n_steps, policy, stop_on_violation, **options)

        def _report(self, trainer):
            done = self.monitor.poll()
            for step, metrics, _ in done:
                for logger in getattr(trainer, "loggers", []) or []:
                    if metrics:
                        logger.log_metrics(metrics, step=step)
            if self.monitor.should_stop(done):
                trainer.should_stop = True

        def on_train_batch_end(self, trainer, pl_module, outputs, batch, batch_idx):
            if self.monitor.due(trainer.global_step):
                self.monitor.submit(trainer.global_step, pl_module)
            self._report(trainer)

        def on_train_end(self, trainer, pl_module):
            self.monitor.join()
            self._report(trainer)

    return _Callback()
