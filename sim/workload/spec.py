"""Workload YAML: parse + validate into a frozen WorkloadSpec.

Two kinds:
  kind: llm   a decoder-only model (from the library in configs/models.yaml or
              inline) served with a batch: prefill, then one decode step per
              generated token with the KV cache growing.
  kind: ops   a list of plain GEMMs for microbenchmarks.
"""
from __future__ import annotations

from dataclasses import dataclass
from types import MappingProxyType
from typing import Any, Mapping

import numpy as np

from ..dtypes import DTYPES
from ..resolve import bundled_file
from ..schema import Checker, opt, req
from ..yamlio import LoadedFile, LocDict, apply_override, load

SCHEMA_VERSIONS = (1,)
WORKLOAD_FIELDS = {
    "schema_version": req("int", "format version of this file", choices=SCHEMA_VERSIONS),
    "name": req("str", "short name"),
    "description": req("str", "one line shown by `accsim list`"),
    "kind": req("str", "llm | ops", choices=("llm", "ops")),
    "model": opt("any", None, "library name, or a mapping with optional `base:` and shape fields"),
    "serving": opt("map", None, "batch and sequence lengths (kind: llm)"),
    "dtypes": opt("map", None, "weights / activations / kv element types"),
    "parallel": opt("map", None, "tensor / pipeline parallel degrees; one device's shard is simulated"),
    "ops": opt("list", None, "GEMMs (kind: ops)"),
    "notes": opt("str", "", "free text"),
}
MODEL_FIELDS = {
    "base": opt("str", None, "library model to start from (configs/models.yaml)"),
    "layers": req("int", "decoder layers", positive=True),
    "d_model": req("int", "hidden size", positive=True),
    "heads": req("int", "attention heads", positive=True),
    "kv_heads": opt("int", None, "KV heads (GQA); default = heads", positive=True),
    "d_head": opt("int", None, "head size; default d_model / heads", positive=True),
    "ffn": req("int", "FFN inner size", positive=True),
    "ffn_kind": req("str", "gelu (up, down) | swiglu (gate, up, down)", choices=("gelu", "swiglu")),
    "vocab": req("int", "vocabulary size", positive=True),
    "context": req("int", "maximum context length", positive=True),
    "norm": req("str", "layernorm | rmsnorm", choices=("layernorm", "rmsnorm")),
}
SERVING_FIELDS = {
    "batch_size": req("int", "requests served together", positive=True),
    "prompt_tokens": req("any", "tokens per prompt: a number or {distribution: ...}"),
    "generate_tokens": req("any", "generated tokens per request: a number or {distribution: ...}"),
    "seed": opt("int", 0, "seed of the length distributions", minimum=0),
    "lm_head": opt("bool", True, "compute the vocabulary projection for every generated token"),
}
LENGTH_FIELDS = {
    "distribution": req("str", "uniform | normal (truncated to [min, max])", choices=("uniform", "normal")),
    "min": req("int", "smallest length", positive=True),
    "max": req("int", "largest length", positive=True),
    "mean": opt("float", None, "mean (normal)", positive=True),
    "std": opt("float", None, "standard deviation (normal)", positive=True),
}
DTYPE_FIELDS = {name: opt("str", "fp16", f"{name} element type", choices=DTYPES)
                for name in ("weights", "activations", "kv")}
PARALLEL_FIELDS = {
    "tensor": opt("int", 1, "tensor-parallel degree (heads and FFN split)", positive=True),
    "pipeline": opt("int", 1, "pipeline-parallel degree (layers split)", positive=True),
}
GEMM_FIELDS = {"m": req("int", "rows of A and C", positive=True),
               "n": req("int", "columns of B and C", positive=True),
               "k": req("int", "columns of A, rows of B", positive=True)}
OP_FIELDS = {"name": req("str", "label in ops.csv"),
             "gemm": req("map", "{m, n, k}: C[m x n] = A[m x k] @ B[k x n]"),
             "count": opt("int", 1, "times this GEMM runs, one after another", positive=True)}


@dataclass(frozen=True)
class ModelShape:
    name: str
    layers: int
    d_model: int
    heads: int
    kv_heads: int
    d_head: int
    ffn: int
    ffn_kind: str
    vocab: int
    context: int
    norm: str


@dataclass(frozen=True)
class GemmOp:
    name: str
    m: int
    n: int
    k: int
    count: int


@dataclass(frozen=True)
class WorkloadSpec:
    name: str
    description: str
    path: str
    kind: str
    dtypes: Mapping[str, str]
    model: ModelShape | None = None
    prompt_tokens: tuple[int, ...] = ()
    generate_tokens: tuple[int, ...] = ()
    tensor_parallel: int = 1
    pipeline_parallel: int = 1
    lm_head: bool = True
    gemms: tuple[GemmOp, ...] = ()
    file_hashes: Mapping[str, str] = None
    overrides: tuple[str, ...] = ()

    @property
    def batch_size(self) -> int:
        return len(self.prompt_tokens)


def _library() -> LocDict:
    return load(bundled_file("config", "models.yaml")).tree["models"]


def _model(checker: Checker, raw: Any, where) -> ModelShape | None:
    if isinstance(raw, str):
        raw = LocDict({"base": raw}, origin=where)
        raw.key_locations["base"] = where
    node = checker.mapping(raw, where, "model")
    if node is None:
        return None
    base_name = node.get("base")
    merged = LocDict(origin=node.origin)
    if base_name is not None:
        library = _library()
        if base_name not in library:
            checker.add(node.location("base"), "model.base",
                        f"unknown model {base_name!r}; library: {', '.join(library)}")
            return None
        merged.update(library[base_name])
        merged.key_locations.update({k: node.location("base") for k in library[base_name]})
    merged.update(node)
    merged.key_locations.update(node.key_locations)
    values = checker.section(merged, "model", MODEL_FIELDS)
    if any(values[k] is None for k in ("layers", "d_model", "heads", "ffn")):
        return None
    kv_heads = values["kv_heads"] or values["heads"]
    d_head = values["d_head"] or values["d_model"] // values["heads"]
    if values["d_head"] is None and values["d_model"] % values["heads"]:
        checker.add(merged.location("heads"), "model.heads",
                    f"d_model {values['d_model']} is not a multiple of {values['heads']} heads; give d_head")
    if values["heads"] % kv_heads:
        checker.add(merged.location("kv_heads"), "model.kv_heads",
                    f"{values['heads']} heads cannot be shared evenly by {kv_heads} KV heads")
    fields = {k: values[k] for k in MODEL_FIELDS if k not in ("base", "kv_heads", "d_head")}
    return ModelShape(name=base_name or "custom", kv_heads=kv_heads, d_head=d_head, **fields)


def _lengths(checker: Checker, raw: Any, where, path: str, count: int, rng) -> tuple[int, ...]:
    """A fixed length for every request, or `count` seeded samples of a distribution."""
    if isinstance(raw, int) and not isinstance(raw, bool):
        if raw <= 0:
            checker.add(where, path, f"must be greater than zero, got {raw}")
            return ()
        return (raw,) * count
    if not isinstance(raw, LocDict):
        checker.add(where, path, f"expected a whole number or a distribution mapping, got {raw!r}")
        return ()
    node = raw
    values = checker.section(node, path, LENGTH_FIELDS)
    low, high = values["min"], values["max"]
    if low is None or high is None:
        return ()
    if low > high:
        checker.add(node.location("max"), f"{path}.max", f"max {high} is below min {low}")
        return ()
    if values["distribution"] == "uniform":
        samples = rng.integers(low, high + 1, size=count)
    else:
        if values["mean"] is None or values["std"] is None:
            checker.add(node.origin, path, "a normal distribution needs mean and std")
            return ()
        samples = np.clip(np.rint(rng.normal(values["mean"], values["std"], size=count)), low, high)
    return tuple(int(x) for x in samples)


def _llm(checker: Checker, tree: LocDict, top: dict, spec_args: dict) -> None:
    model = _model(checker, top["model"], tree.location("model")) if top["model"] is not None else None
    if top["model"] is None:
        checker.add(tree.origin, "model", "missing required field (kind: llm needs a model)")
    if top["serving"] is None:
        checker.add(tree.origin, "serving", "missing required field (kind: llm needs serving)")
        return
    serving = checker.section(top["serving"], "serving", SERVING_FIELDS)
    parallel = checker.section(top["parallel"] or LocDict(), "parallel", PARALLEL_FIELDS)
    batch = serving["batch_size"] or 0
    rng = np.random.default_rng(serving["seed"])
    node = top["serving"]
    prompts = _lengths(checker, serving["prompt_tokens"], node.location("prompt_tokens"),
                       "serving.prompt_tokens", batch, rng) if serving["prompt_tokens"] is not None else ()
    generated = _lengths(checker, serving["generate_tokens"], node.location("generate_tokens"),
                         "serving.generate_tokens", batch, rng) if serving["generate_tokens"] is not None else ()
    if model is not None:
        _check_fit(checker, tree, model, parallel, prompts, generated)
    spec_args.update(model=model, prompt_tokens=prompts, generate_tokens=generated,
                     tensor_parallel=parallel["tensor"], pipeline_parallel=parallel["pipeline"],
                     lm_head=serving["lm_head"])


def _check_fit(checker, tree, model: ModelShape, parallel, prompts, generated) -> None:
    node = tree.get("parallel")

    def where(key):
        return node.location(key) if isinstance(node, LocDict) and key in node else tree.location("parallel")

    tp, pp = parallel["tensor"], parallel["pipeline"]
    if tp and model.kv_heads % tp:
        checker.add(where("tensor"), "parallel.tensor", f"{model.kv_heads} KV heads cannot be split over {tp} devices")
    if tp and model.ffn % tp:
        checker.add(where("tensor"), "parallel.tensor", f"FFN size {model.ffn} cannot be split over {tp} devices")
    if pp and model.layers % pp:
        checker.add(where("pipeline"), "parallel.pipeline", f"{model.layers} layers cannot be split into {pp} stages")
    if prompts and generated:
        longest = max(p + g for p, g in zip(prompts, generated))
        if longest > model.context:
            checker.add(tree.location("serving"), "serving",
                        f"prompt + generated tokens reach {longest}, beyond the model's context of {model.context}")


def _ops(checker: Checker, tree: LocDict, top: dict, spec_args: dict) -> None:
    entries = top["ops"]
    if not entries:
        checker.add(tree.origin, "ops", "kind: ops needs a non-empty list of ops")
        return
    gemms = []
    for index, entry in enumerate(entries):
        path = f"ops[{index}]"
        node = checker.mapping(entry, entries.location(index), path)
        if node is None:
            continue
        values = checker.section(node, path, OP_FIELDS)
        shape = checker.section(values["gemm"], f"{path}.gemm", GEMM_FIELDS) if values["gemm"] else None
        if shape and None not in shape.values() and values["name"]:
            gemms.append(GemmOp(values["name"], shape["m"], shape["n"], shape["k"], values["count"]))
    spec_args["gemms"] = tuple(gemms)


def parse_workload(loaded: LoadedFile, overrides: tuple[str, ...] = ()) -> WorkloadSpec:
    tree = loaded.tree
    for assignment in overrides:
        apply_override(tree, assignment)
    checker = Checker(loaded.problems)
    top = checker.section(tree, "", WORKLOAD_FIELDS)
    dtypes = checker.section(top["dtypes"] or LocDict(), "dtypes", DTYPE_FIELDS)
    args: dict[str, Any] = {}
    if top["kind"] == "llm":
        _llm(checker, tree, top, args)
    elif top["kind"] == "ops":
        _ops(checker, tree, top, args)
    for key, needed_by in (("ops", "ops"), ("model", "llm"), ("serving", "llm")):
        if top[key] is not None and top["kind"] and top["kind"] != needed_by:
            checker.add(tree.location(key), key, f"only valid with kind: {needed_by}")
    checker.raise_if_any()
    return WorkloadSpec(name=top["name"], description=top["description"], path=str(loaded.path),
                        kind=top["kind"], dtypes=MappingProxyType(dtypes),
                        file_hashes=MappingProxyType(dict(loaded.file_hashes)),
                        overrides=tuple(overrides), **args)
