"""Cycle-level DRAM/HBM: presets as data, declarative timing constraints,
address mapping, request traces. The cycle loop is accsim.kernels.dram."""
