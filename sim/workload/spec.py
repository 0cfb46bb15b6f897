"""Workload YAML: parse + validate into a frozen WorkloadSpec.

Two kinds:
  kind: llm   a decoder-only model (from the library in configs/models.yaml or
              inline) serving a queue of requests in batches (static) or with
              iteration-level continuous batching (accsim.workload.serving);
              request lengths from numbers, seeded distributions or a CSV
              (accsim.workload.lengths).
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
from .lengths import LENGTH_FIELDS, csv_lengths, sample_lengths  # noqa: F401  (LENGTH_FIELDS: docs/yaml.md)
from .serving import schedule

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
    "quantization": opt("map", None, "weight-only quantization of the weight GEMMs: group size, scales, "
                                     "zero points (read by quantization-aware arrays, e.g. mixpe_array)"),
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
SCHEDULING = ("static", "continuous")
SERVING_FIELDS = {
    "batch_size": req("int", "requests served together (at most this many active per iteration)", positive=True),
    "requests": opt("int", None, "requests in the queue (default: batch_size)", positive=True),
    "scheduling": opt("str", "static", "static (batch after batch) or continuous (a finished request is "
                                       "replaced from the queue in the next iteration)", choices=SCHEDULING),
    "max_iterations": opt("int", None, "simulate at most this many iterations (a window; default: until "
                                       "the queue is served)", positive=True),
    "skip_iterations": opt("int", 0, "iterations scheduled but not simulated before the window "
                                     "(their KV caches are in place)", minimum=0),
    "prompt_tokens": opt("any", None, "tokens per prompt: a number or {distribution: ...} "
                                      "(required unless lengths_csv)"),
    "generate_tokens": opt("any", None, "generated tokens per request: a number or {distribution: ...} "
                                        "(required unless lengths_csv)"),
    "lengths_csv": opt("str", None, "CSV with columns prompt_tokens,generate_tokens, one request per row, "
                                    "path relative to this file; rows cycled or truncated to `requests`"),
    "seed": opt("int", 0, "seed of the length distributions", minimum=0),
    "lm_head": opt("bool", True, "compute the vocabulary projection for every generated token"),
}
DTYPE_FIELDS = {name: opt("str", "fp16", f"{name} element type", choices=DTYPES)
                for name in ("weights", "activations", "kv")}
PARALLEL_FIELDS = {
    "tensor": opt("int", 1, "tensor-parallel degree (heads and FFN split)", positive=True),
    "pipeline": opt("int", 1, "pipeline-parallel degree (layers split)", positive=True),
}
QUANT_WEIGHTS = ("int8", "int4", "int2")
QUANTIZATION_FIELDS = {
    "group_size": opt("int", 128, "weights per scale along K (0: one scale per output channel)", minimum=0),
    "scale_dtype": opt("str", "fp16", "element type of the per-group scales (and zero points)",
                       choices=("fp16", "bf16", "fp32")),
    "zero_points": opt("bool", True, "asymmetric quantization: a zero point per group next to the scale"),
    "padding": opt("str", "error", "K not a multiple of group_size: error | zero (pad K with zero weights "
                                   "up to the next group)", choices=("error", "zero")),
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
class Quantization:
    """Weight-only quantization: w = s_g * (q - z_g) per group of `group_size` weights
    along K. `file`/`line` locate the section (or, when it is missing, the weights
    dtype) for errors found later by the arrays that execute the weights."""

    weights: str                 # dtypes.weights: int8 | int4 | int2
    group_size: int              # 0: one scale per output channel
    scale_dtype: str
    zero_points: bool
    padding: str                 # error | zero
    given: bool                  # False: integer weights but no quantization section (no scales)
    file: str = ""
    line: int | None = None

    def padded_k(self, k: int) -> int:
        g = self.group_size
        return k if g <= 0 or self.padding == "error" else -(-k // g) * g


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
    prompt_tokens: tuple[int, ...] = ()      # one entry per request of the queue
    generate_tokens: tuple[int, ...] = ()
    batch_size: int = 0                       # most requests active in one iteration
    scheduling: str = "static"
    max_iterations: int | None = None
    skip_iterations: int = 0
    tensor_parallel: int = 1
    pipeline_parallel: int = 1
    lm_head: bool = True
    gemms: tuple[GemmOp, ...] = ()
    quantization: Quantization | None = None
    file_hashes: Mapping[str, str] = None
    overrides: tuple[str, ...] = ()

    @property
    def requests(self) -> int:
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
    node = top["serving"]
    requests = serving["requests"] if serving["requests"] is not None else batch
    if serving["requests"] is not None and batch and requests < batch:
        checker.add(node.location("requests"), "serving.requests",
                    f"{requests} requests cannot fill a batch of {batch}; give at least batch_size")
    prompts, generated, origins = _request_lengths(checker, node, serving, requests, spec_args)
    if model is not None:
        _check_fit(checker, tree, model, parallel, prompts, generated, origins)
    skip = serving["skip_iterations"] or 0
    if skip and batch and prompts and len(prompts) == len(generated) and not schedule(
            prompts, generated, batch, serving["scheduling"] or "static", 1, skip):
        total = len(schedule(prompts, generated, batch, serving["scheduling"] or "static"))
        checker.add(node.location("skip_iterations"), "serving.skip_iterations",
                    f"skips {skip} iterations but the queue is served in {total}: nothing left to simulate")
    spec_args.update(model=model, prompt_tokens=prompts, generate_tokens=generated, batch_size=batch,
                     scheduling=serving["scheduling"] or "static", max_iterations=serving["max_iterations"],
                     skip_iterations=serving["skip_iterations"] or 0,
                     tensor_parallel=parallel["tensor"], pipeline_parallel=parallel["pipeline"],
                     lm_head=serving["lm_head"])


def _request_lengths(checker: Checker, node: LocDict, serving: dict, requests: int, spec_args: dict):
    """(prompts, generated, where each request's lengths were written) for the whole queue."""
    if serving["lengths_csv"] is not None:
        for key in ("prompt_tokens", "generate_tokens"):
            if serving[key] is not None:
                checker.add(node.location(key), f"serving.{key}", "give either lengths_csv or prompt_tokens "
                                                                   "and generate_tokens, not both")
        prompts, generated, origins, hashes = csv_lengths(checker, serving["lengths_csv"],
                                                          node.location("lengths_csv"), "serving.lengths_csv",
                                                          requests)
        spec_args["input_hashes"] = hashes
        return prompts, generated, origins
    for key in ("prompt_tokens", "generate_tokens"):
        if serving[key] is None:
            checker.add(node.origin, f"serving.{key}", "missing required field (or give lengths_csv)")
    # Prompts are drawn first, then generated lengths, from one generator (seeded).
    rng = np.random.default_rng(serving["seed"])
    lengths = []
    for which, key in enumerate(("prompt_tokens", "generate_tokens")):
        lengths.append(sample_lengths(checker, serving[key], node.location(key), f"serving.{key}", requests, rng,
                                      which) if serving[key] is not None else ())
    return lengths[0], lengths[1], (node.origin,) * requests


def _check_fit(checker, tree, model: ModelShape, parallel, prompts, generated, origins=()) -> None:
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
        # every request of the queue must fit; one problem per place that wrote a too-long request
        reported = set()
        for request, (p, g) in enumerate(zip(prompts, generated)):
            where = origins[request] if request < len(origins) else tree.location("serving")
            if p + g > model.context and where not in reported:
                reported.add(where)
                checker.add(where, "serving", f"request {request}: prompt {p} + generated {g} tokens reach "
                                              f"{p + g}, beyond the model's context of {model.context}")


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


def _weight_ks(args: dict, tp: int) -> list[tuple[str, int]]:
    """(label, K) of every weight GEMM the lowering emits."""
    if args.get("gemms"):
        return [(f"ops '{g.name}'", g.k) for g in args["gemms"]]
    model = args.get("model")
    if model is None:
        return []
    heads = model.heads // tp
    return [("d_model (qkv, ffn_up)", model.d_model), ("heads x d_head / tensor (proj)", heads * model.d_head),
            ("ffn / tensor (ffn_down)", model.ffn // tp), ("d_model (lm_head)", model.d_model)]


def _quantization(checker: Checker, tree: LocDict, top: dict, dtypes: dict, args: dict) -> Quantization | None:
    """The quantization section, checked against the weight type and every weight GEMM's K."""
    weights = dtypes["weights"]
    node = top["quantization"]
    file = tree.origin[0]
    if node is None:
        if weights not in QUANT_WEIGHTS:
            return None
        where = tree["dtypes"].location("weights") if isinstance(tree.get("dtypes"), LocDict) \
            and "weights" in tree["dtypes"] else tree.origin
        return Quantization(weights, 0, "fp16", False, "error", False, where[0], where[1])
    values = checker.section(node, "quantization", QUANTIZATION_FIELDS)
    if weights not in QUANT_WEIGHTS:
        where = tree["dtypes"].location("weights") if isinstance(tree.get("dtypes"), LocDict) \
            and "weights" in tree["dtypes"] else tree.location("quantization")
        checker.add(where, "dtypes.weights", f"a quantization section needs integer weights "
                                             f"({', '.join(QUANT_WEIGHTS)}), got {weights}")
        return None
    group = values["group_size"]
    if group and values["padding"] == "error":
        parallel = top["parallel"] or {}
        tp = parallel.get("tensor", 1) if isinstance(parallel.get("tensor", 1), int) else 1
        for label, k in _weight_ks(args, max(1, tp)):
            if k % group:
                checker.add(node.location("group_size"), "quantization.group_size",
                            f"group size {group} does not divide K = {k} of {label}; "
                            f"use a divisor or padding: zero")
    where = node.origin
    return Quantization(weights, group or 0, values["scale_dtype"], values["zero_points"], values["padding"],
                        True, where[0] or file, where[1])


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
    args["quantization"] = _quantization(checker, tree, top, dtypes, args)
    for key, needed_by in (("ops", "ops"), ("model", "llm"), ("serving", "llm")):
        if top[key] is not None and top["kind"] and top["kind"] != needed_by:
            checker.add(tree.location(key), key, f"only valid with kind: {needed_by}")
    checker.raise_if_any()
    return WorkloadSpec(name=top["name"], description=top["description"], path=str(loaded.path),
                        kind=top["kind"], dtypes=MappingProxyType(dtypes),
                        file_hashes=MappingProxyType({**loaded.file_hashes, **args.pop("input_hashes", {})}),
                        overrides=tuple(overrides), **args)
