"""accsim: cycle-level simulator for LLM-era hardware accelerators.

    import accsim
    result = accsim.run("npu", "gpt2")
    result.summary["total"]["seconds"], result.ops.head()
"""
__version__ = "0.1.0"

from .api import load_arch, load_workload, run  # noqa: E402
from .errors import AccsimError, CapacityError, ConfigError, ResolveError  # noqa: E402
from .result import Result  # noqa: E402
from . import sweep  # noqa: E402  (callable: accsim.sweep(spec) runs a sweep spec, docs/sweeps.md)

__all__ = ["run", "load_arch", "load_workload", "Result", "AccsimError", "ConfigError",
           "ResolveError", "CapacityError", "__version__"]
