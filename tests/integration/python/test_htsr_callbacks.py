"""htsr.callbacks: the background Monitor (framework-free), and the transformers / Lightning
callbacks when those packages are installed (skipped otherwise)."""

import math

import numpy as np
import pytest

htsr = pytest.importorskip("htsr")
pytest.importorskip("htsr._htsr", reason="the htsr wheel is not installed (only its sources)")
from htsr.callbacks import Monitor  # noqa: E402


def _weights(seed):
    rng = np.random.default_rng(seed)
    return {f"l{i}.weight": rng.standard_normal((60, 30)).astype(np.float32) for i in range(3)}


def test_monitor_logs_the_summary_and_reports_policy_violations(tmp_path):
    policy = tmp_path / "gate.yaml"
    policy.write_text("max_alpha: 1.0\n")  # Gaussian layers have alpha well above 1
    m = Monitor(every_n_steps=2, policy=str(policy))
    assert not m.due(1) and m.due(2)
    w = _weights(0)
    assert m.submit(2, w)
    m.join()
    done = m.poll()
    assert [step for step, _, _ in done] == [2]
    step, metrics, broken = done[0]
    want = htsr.analyze(w).attrs["summary"]
    assert math.isclose(metrics["htsr/alpha"], want["alpha"], rel_tol=0, abs_tol=0)
    assert metrics["htsr/num_analyzed"] == 3
    assert broken and "max_alpha" in broken[0]
    assert m.should_stop(done)
    assert m.violations and not m.errors


def test_monitor_without_policy_never_stops_and_reports_errors():
    m = Monitor(every_n_steps=1)
    m.submit(1, {"a.bias": np.zeros(4, np.float32)})  # no layer: an error, not an exception
    m.join()
    done = m.poll()
    assert not m.should_stop(done)
    assert m.errors and "no" in m.errors[0]


def test_transformers_callback_stops_training(tmp_path):
    pytest.importorskip("transformers")
    torch = pytest.importorskip("torch")
    from transformers import TrainerControl, TrainerState, TrainingArguments

    from htsr.callbacks import HtsrTrainerCallback
    policy = tmp_path / "gate.yaml"
    policy.write_text("max_alpha: 1.0\n")
    cb = HtsrTrainerCallback(every_n_steps=1, policy=str(policy))
    model = torch.nn.Sequential(torch.nn.Linear(30, 60), torch.nn.Linear(60, 30))
    state, control = TrainerState(), TrainerControl()
    state.global_step = 1
    args = TrainingArguments(output_dir=str(tmp_path))
    cb.on_step_end(args, state, control, model=model)
    cb.on_train_end(args, state, control)
    assert control.should_training_stop
    assert any("htsr/alpha" in e for e in state.log_history)


def test_lightning_callback_logs_and_stops(tmp_path):
    torch = pytest.importorskip("torch")
    try:
        import lightning.pytorch  # noqa: F401
    except ImportError:
        pytest.importorskip("pytorch_lightning")
    from htsr.callbacks import HtsrLightningCallback

    class Logger:
        def __init__(self):
            self.logged = []

        def log_metrics(self, metrics, step):
            self.logged.append((step, metrics))

    class Trainer:
        global_step = 1
        should_stop = False
        loggers = [Logger()]

    policy = tmp_path / "gate.yaml"
    policy.write_text("max_alpha: 1.0\n")
    cb = HtsrLightningCallback(every_n_steps=1, policy=str(policy))
    t = Trainer()
    cb.on_train_batch_end(t, torch.nn.Linear(30, 60), None, None, 0)
    cb.on_train_end(t, None)
    assert t.should_stop and t.loggers[0].logged[0][1]["htsr/alpha"] > 1
