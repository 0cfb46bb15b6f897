"""Iteration-level serving schedule: which requests run in which iteration.

Pure bookkeeping (no hardware): the lowering turns each iteration into one
forward pass over all its active requests. A request r has a prompt of
P_r tokens and generates G_r tokens; the iteration in which it joins
processes its prompt (P_r query tokens, attention over its P_r tokens) and
emits its first token; every later iteration feeds the last token back
(1 query token, attention over P_r + tokens generated so far) and emits one
more. After G_r tokens it finishes and leaves the batch.

  static      the queue is served in batches of `batch_size`: a batch joins
              together, shrinks as its requests finish, and the next batch
              joins only when the last request of the current one finished.
              With requests = batch_size (the default) this is one prefill
              and max(G) - 1 decode steps.
  continuous  iteration-level (ORCA-style) scheduling: at most `batch_size`
              active requests; a request that finished in iteration i is
              replaced by the next queued request in iteration i + 1, whose
              prompt then runs in that iteration next to the others' decode
              tokens (the new prompt's tokens are extra rows of the GEMMs).

An iteration in which every active request processes its prompt is "prefill";
any other (pure decode or mixed prompt + decode) is "decode".

`max_iterations` ends the simulation after that many iterations (a sampled
window of a long serving run); `skip_iterations` schedules that many
iterations first without simulating them (their KV caches are then in place),
so a window can start in steady state.
"""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Slot:
    """One active request in one iteration."""

    request: int          # index into the workload's request lists
    queries: int          # query tokens processed this iteration (prompt, or 1)
    context: int          # tokens its attention covers (KV cache after this iteration's append)
    joins: bool           # True: its prompt is processed in this iteration


@dataclass(frozen=True)
class Iteration:
    index: int            # 0-based position in the whole schedule (skipped iterations included)
    slots: tuple[Slot, ...]
    finished: tuple[int, ...] = ()   # requests that emit their last token in this iteration

    @property
    def phase(self) -> str:
        return "prefill" if all(s.joins for s in self.slots) else "decode"

    @property
    def tokens_generated(self) -> int:
        return len(self.slots)           # every active request emits one token per iteration


def schedule(prompts, generate, batch_size: int, scheduling: str = "static",
             max_iterations: int | None = None, skip_iterations: int = 0) -> list[Iteration]:
    """The simulated iterations (skipped ones excluded), in order."""
    queue = list(range(len(prompts)))
    queue.reverse()                      # pop() takes the lowest request index first
    active: list[int] = []
    generated = {}
    iterations: list[Iteration] = []
    index = 0
    last = None if max_iterations is None else skip_iterations + max_iterations
    while (queue or active) and (last is None or index < last):
        joining = set()
        if scheduling == "continuous" or not active:
            while queue and len(active) < batch_size:
                request = queue.pop()
                active.append(request)
                joining.add(request)
        for request in joining:
            generated[request] = 0
        if index >= skip_iterations:       # skipped iterations: bookkeeping only, no Slot objects
            slots = tuple(Slot(r, prompts[r], prompts[r], True) if r in joining
                          else Slot(r, 1, prompts[r] + generated[r], False) for r in active)
        finished = []
        for request in active:
            generated[request] += 1
            if generated[request] >= generate[request]:
                finished.append(request)
        if index >= skip_iterations:
            iterations.append(Iteration(index, slots, tuple(finished)))
        active = [r for r in active if r not in finished]
        index += 1
    return iterations


def split(slots: tuple[Slot, ...], parts: int) -> list[tuple[Slot, ...]]:
    """Sub-batches with near-equal request counts (at most ceil(n / parts) each) and
    attention loads: longest context first onto the part with the least context so
    far among those with room, as NeuPIMs halves each PIM channel's requests so that
    both sub-batches' attention takes about as long. Each part keeps the active
    list's order; empty parts are dropped."""
    room = -(-len(slots) // parts)
    load, count = [0] * parts, [0] * parts
    owner = [0] * len(slots)
    for index in sorted(range(len(slots)), key=lambda i: -slots[i].context):
        part = min((p for p in range(parts) if count[p] < room), key=lambda p: load[p])
        owner[index] = part
        load[part] += slots[index].context
        count[part] += 1
    out = [tuple(s for s, o in zip(slots, owner) if o == part) for part in range(parts)]
    return [part for part in out if part]


def peak_reserved_tokens(prompts, generate, iterations: list[Iteration]) -> int:
    """Largest sum of prompt + generate tokens over the requests active in one
    iteration: the KV cache space a server reserves (each request's full length)."""
    return max((sum(prompts[s.request] + generate[s.request] for s in it.slots) for it in iterations), default=0)
