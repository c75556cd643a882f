"""htsr: heavy-tailed self-regularization (HT-SR) metrics of model weights.

    import htsr
    df = htsr.analyze(model)            # torch module, state dict, dict of arrays, or a path
    df.attrs["summary"]                 # the model summary
    htsr.analyze("model.safetensors", format="csv")   # the CLI's CSV, byte for byte

    import htsr as ww                   # a drop-in for weightwatcher 0.7.7
    watcher = ww.WeightWatcher(model=model)
    details = watcher.analyze()
    summary = watcher.get_summary(details)

The engine runs in process (C++, CPU); server="host:port" sends the tensors to htsr-server
instead (htsr_client, pip install 'htsr[remote]').
"""

from ._analyze import analyze, layer_spec, to_dataframe
from .watcher import WeightWatcher

__all__ = ["analyze", "to_dataframe", "WeightWatcher", "__version__"]
__version__ = "0.1.0"
