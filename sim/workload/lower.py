"""Lower a WorkloadSpec into the op graph of one device's shard.

A decoder layer (tensor-parallel degree t: heads, KV heads and FFN split t
ways; pipeline degree p: layers / p layers per device) over `tokens` new
tokens of a set of requests:

    norm1 -> qkv (GEMM) -> kv_append -> attn_score (per request & KV head)
    -> softmax -> attn_value -> proj (GEMM) -> add -> norm2 -> ffn_up (GEMM;
    gate+up fused for SwiGLU) -> gelu | silu_mul -> ffn_down (GEMM) -> add

Attention under GQA stacks the query heads of one KV head as the rows of one
GEMM so the K/V of that head are read once. Scores are computed over the whole
context, causal mask included (no skipping of masked blocks).

Iterations come from the serving schedule (accsim.workload.serving): in each,
a request that joins processes its whole prompt (its tokens are extra rows of
the GEMMs; prefill attention over its prompt) and emits its first token; every
other active request feeds one token with context prompt + tokens generated so
far. With static scheduling and requests = batch_size this is prefill, then
decode step s (1-based) emitting the (s+1)-th token of every request that still
has tokens to generate, with context prompt + s. Op.step is the iteration's
index; names are `prefill.L0.qkv` (iteration 0), `decode7.L0.qkv`,
`prefill12.L0.qkv` (a later all-prompt iteration).

Sub-batch interleaving (`sub_batches` k > 1): each iteration's active requests
are cut by position into k contiguous near-equal parts (the first parts take
the extra request); each part runs its own chain of all layers (and its own
lm_head), Op.sub_batch = 1..k and `.sbN` in the names; the chains of one
iteration do not depend on each other, and the first op of every chain of the
next iteration depends on the last op of every chain of this one.

The final norm and the vocabulary projection (for the rows that emit a token)
run when `lm_head` is set and the device holds the last pipeline stage
(simulated only for pipeline degree 1). Communication between tensor- or
pipeline-parallel devices is not modelled.
"""
from __future__ import annotations

from dataclasses import dataclass, replace
from itertools import chain, repeat

from ..dtypes import BYTES_PER_ELEMENT
from .ops import Op
from .serving import Iteration, peak_reserved_tokens, schedule, split
from .spec import ModelShape, Quantization, WorkloadSpec


@dataclass(frozen=True, slots=True)
class QuantizedOp(Op):
    """A weight GEMM whose weights are quantized (the workload's `quantization`
    section, or integer weights without one: `quant.given` is then False). K is
    already padded to whole groups when the section says `padding: zero`."""

    quant: Quantization | None = None
    activation_dtype: str = "fp16"

    def signature(self) -> tuple:
        return Op.signature(self) + (self.quant, self.activation_dtype)


class _Builder:
    def __init__(self, spec: WorkloadSpec):
        self.ops: list[Op] = []
        self.weight = BYTES_PER_ELEMENT[spec.dtypes["weights"]]
        self.act = BYTES_PER_ELEMENT[spec.dtypes["activations"]]
        self.kv = BYTES_PER_ELEMENT[spec.dtypes["kv"]]
        self.sub_batch = 0   # Op.sub_batch of the ops built now (lower_llm sets it per chain)
        self.quant = spec.quantization
        self.act_dtype = spec.dtypes["activations"]

    def add(self, name, kind, phase, layer, step, deps, **shape) -> int:
        index = len(self.ops)
        self.ops.append(Op(index, name, kind, phase, layer, step, tuple(d for d in deps if d is not None),
                           sub_batch=self.sub_batch, **shape))
        return index

    def gemm(self, name, phase, layer, step, deps, m, n, k) -> int:
        return self.weight_gemm(name, "gemm", phase, layer, step, deps, m, n, k)

    def weight_gemm(self, name, kind, phase, layer, step, deps, m, n, k) -> int:
        """A GEMM with a weight operand B; quantized weights make it a QuantizedOp."""
        if self.quant is None:
            return self.add(name, kind, phase, layer, step, deps, gemms=((m, n, k),),
                            a_bytes=self.act, b_bytes=self.weight, c_bytes=self.act)
        index = len(self.ops)
        self.ops.append(QuantizedOp(index, name, kind, phase, layer, step, tuple(d for d in deps if d is not None),
                                    gemms=((m, n, self.quant.padded_k(k)),), a_bytes=self.act,
                                    b_bytes=self.weight, c_bytes=self.act, quant=self.quant,
                                    activation_dtype=self.act_dtype))
        return index

    def attention(self, name, phase, layer, step, deps, gemms, per_request) -> int:
        """QK^T or SV of every request: `per_request` consecutive GEMMs (KV heads) each."""
        return self.add(name, "attention", phase, layer, step, deps, gemms=tuple(gemms),
                        a_bytes=self.act, b_bytes=self.kv, c_bytes=self.act, group=per_request)

    def vector(self, name, kind, phase, layer, step, deps, elements, element_bytes=None) -> int:
        nbytes = element_bytes or self.act
        return self.add(name, kind, phase, layer, step, deps, elements=elements,
                        a_bytes=nbytes, b_bytes=nbytes, c_bytes=nbytes)


def _layer(b: _Builder, model: ModelShape, tp: int, phase: str, layer: int, step: int,
           queries: list[int], contexts: list[int], deps: list, prefix: str) -> int:
    tokens = sum(queries)
    d, dh = model.d_model, model.d_head
    heads, kv_heads = model.heads // tp, max(1, model.kv_heads // tp)
    group = heads // kv_heads
    ffn = model.ffn // tp
    tag = f"{prefix}.L{layer}"
    x = b.vector(f"{tag}.norm1", model.norm, phase, layer, step, list(deps), tokens * d)
    qkv = b.gemm(f"{tag}.qkv", phase, layer, step, [x], tokens, (heads + 2 * kv_heads) * dh, d)
    kv = b.vector(f"{tag}.kv_append", "kv_append", phase, layer, step, [qkv],
                  tokens * 2 * kv_heads * dh, b.kv)
    score_shapes = _per_kv_head([(q * group, c, dh) for q, c in zip(queries, contexts)], kv_heads)
    score = b.attention(f"{tag}.attn_score", phase, layer, step, [kv], score_shapes, kv_heads)
    soft = b.vector(f"{tag}.softmax", "softmax", phase, layer, step, [score],
                    sum(q * c for q, c in zip(queries, contexts)) * heads)
    value_shapes = _per_kv_head([(q * group, dh, c) for q, c in zip(queries, contexts)], kv_heads)
    attn = b.attention(f"{tag}.attn_value", phase, layer, step, [soft], value_shapes, kv_heads)
    proj = b.gemm(f"{tag}.proj", phase, layer, step, [attn], tokens, d, heads * dh)
    res1 = b.vector(f"{tag}.residual1", "add", phase, layer, step, [proj], tokens * d)
    x2 = b.vector(f"{tag}.norm2", model.norm, phase, layer, step, [res1], tokens * d)
    gated = model.ffn_kind == "swiglu"
    up = b.gemm(f"{tag}.ffn_up", phase, layer, step, [x2], tokens, ffn * (2 if gated else 1), d)
    act = b.vector(f"{tag}.{'silu_mul' if gated else 'gelu'}", "silu_mul" if gated else "gelu",
                   phase, layer, step, [up], tokens * ffn)
    down = b.gemm(f"{tag}.ffn_down", phase, layer, step, [act], tokens, d, ffn)
    return b.vector(f"{tag}.residual2", "add", phase, layer, step, [down, res1], tokens * d)


def _per_kv_head(shapes: list[tuple[int, int, int]], kv_heads: int) -> tuple:
    """Each request's attention GEMM once per KV head, consecutively (one shape object
    repeated: cheap to build for large batches and many heads)."""
    return tuple(chain.from_iterable(repeat(shape, kv_heads) for shape in shapes))


def _pass(b: _Builder, spec: WorkloadSpec, phase: str, step: int, queries, contexts, emitting: int,
          deps: list, prefix: str) -> int:
    """All layers (and the lm_head) over one set of requests; returns the last op."""
    model, tp = spec.model, spec.tensor_parallel
    for layer in range(model.layers // spec.pipeline_parallel):
        deps = [_layer(b, model, tp, phase, layer, step, queries, contexts, deps, prefix)]
    if spec.lm_head and spec.pipeline_parallel == 1:
        norm = b.vector(f"{prefix}.final_norm", model.norm, phase, -1, step, deps, emitting * model.d_model)
        deps = [b.gemm(f"{prefix}.lm_head", phase, -1, step, [norm], emitting, model.vocab // tp, model.d_model)]
    return deps[0]


def _prefix(iteration: Iteration) -> str:
    phase = iteration.phase
    return phase if phase == "prefill" and iteration.index == 0 else f"{phase}{iteration.index}"


def iterations(spec: WorkloadSpec) -> list[Iteration]:
    """The simulated iterations of an llm workload (accsim.workload.serving.schedule)."""
    return schedule(spec.prompt_tokens, spec.generate_tokens, spec.batch_size or len(spec.prompt_tokens),
                    spec.scheduling, spec.max_iterations, spec.skip_iterations)


def serving_totals(spec: WorkloadSpec) -> dict:
    """What the simulated iterations serve: tokens emitted (one per active request per
    iteration; the summary's tokens generated), requests that joined and that finished."""
    its = iterations(spec)
    return {"iterations": len(its), "tokens_generated": sum(it.tokens_generated for it in its),
            "requests_joined": sum(1 for it in its for s in it.slots if s.joins),
            "requests_completed": sum(len(it.finished) for it in its)}


def lower_llm(spec: WorkloadSpec, sub_batches: int = 1) -> list[Op]:
    b = _Builder(spec)
    ends: list = [None]
    for iteration in iterations(spec):
        phase, step, prefix = iteration.phase, iteration.index, _prefix(iteration)
        parts = [iteration.slots] if sub_batches <= 1 else split(iteration.slots, sub_batches)
        new_ends = []
        for number, slots in enumerate(parts, 1):
            first = len(b.ops)
            queries = [s.queries for s in slots]
            contexts = [s.context for s in slots]
            name = prefix if sub_batches <= 1 else f"{prefix}.sb{number}"
            b.sub_batch = number if sub_batches > 1 else 0
            new_ends.append(_pass(b, spec, phase, step, queries, contexts, len(slots), ends, name))
            if sub_batches > 1:   # ops built without add() (subclasses of Op) get their sub-batch here
                b.ops[first:] = [op if op.sub_batch == number else replace(op, sub_batch=number)
                                 for op in b.ops[first:]]
        ends = new_ends
    return b.ops


def lower_ops(spec: WorkloadSpec) -> list[Op]:
    b = _Builder(spec)
    dep = None
    for gemm in spec.gemms:
        for repeat in range(gemm.count):
            name = gemm.name if gemm.count == 1 else f"{gemm.name}#{repeat}"
            dep = b.weight_gemm(name, "gemm", "ops", -1, 0, [dep], gemm.m, gemm.n, gemm.k)
    return b.ops


def lower(spec: WorkloadSpec, sub_batches: int = 1) -> list[Op]:
    """The op graph; `sub_batches` > 1 splits every iteration of an llm workload into
    that many independent chains (sub-batch interleaving, module docstring)."""
    if sub_batches < 1:
        raise ValueError(f"sub_batches must be at least 1, got {sub_batches}")
    return lower_llm(spec, sub_batches) if spec.kind == "llm" else lower_ops(spec)


def resident_tensors(spec: WorkloadSpec) -> list[tuple[str, float]]:
    """(name, bytes) of what must live in device memory for the whole run."""
    if spec.kind != "llm":
        # GEMMs run one after another: memory must hold the operands of the largest one
        act, weight = BYTES_PER_ELEMENT[spec.dtypes["activations"]], BYTES_PER_ELEMENT[spec.dtypes["weights"]]
        sizes = [(f"{g.name} operands", g.m * g.k * act + g.k * g.n * weight + g.m * g.n * act) for g in spec.gemms]
        return [max(sizes, key=lambda item: item[1])]
    model, tp = spec.model, spec.tensor_parallel
    layers = model.layers // spec.pipeline_parallel
    weight = BYTES_PER_ELEMENT[spec.dtypes["weights"]]
    heads, kv_heads = model.heads // tp, max(1, model.kv_heads // tp)
    matrices = 3 if model.ffn_kind == "swiglu" else 2
    per_layer = (model.d_model * (heads + 2 * kv_heads) * model.d_head + heads * model.d_head * model.d_model
                 + matrices * model.d_model * model.ffn // tp)
    tensors = [(f"weights ({layers} layers)", layers * per_layer * weight)]
    if spec.pipeline_parallel == 1:
        tensors.append(("embedding + lm_head", 2 * model.vocab * model.d_model * weight / tp))
    # KV space reserved for the full length (prompt + generate) of every request active at once,
    # at the iteration where that is largest
    tokens = peak_reserved_tokens(spec.prompt_tokens, spec.generate_tokens, iterations(spec))
    kv_bytes = tokens * layers * 2 * kv_heads * model.d_head * BYTES_PER_ELEMENT[spec.dtypes["kv"]]
    tensors.append((f"KV cache ({spec.batch_size} requests, {tokens} tokens)", kv_bytes))
    return tensors
