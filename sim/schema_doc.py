"""Markdown reference of every YAML field, generated from the schemas themselves
(`accsim list --fields`; docs/yaml.md embeds it and a test keeps them equal)."""
from __future__ import annotations

from .arch import ARCH_FIELDS
from .components import REGISTRY
from .workload import spec


def _table(fields) -> list[str]:
    rows = ["| field | kind | required / default | meaning |", "|---|---|---|---|"]
    for name, field in fields.items():
        need = "required" if field.required else f"default `{field.default}`"
        if field.choices:
            need += f"; one of {', '.join(map(str, field.choices))}"
        rows.append(f"| `{name}` | {field.kind} | {need} | {field.doc} |")
    return rows


def field_reference() -> str:
    sections = [("Architecture file", ARCH_FIELDS)]
    sections += [(f"`type: {name}` ({REGISTRY[name].SUMMARY})", REGISTRY[name].all_fields())
                 for name in sorted(REGISTRY)]
    sections += [("Workload file", spec.WORKLOAD_FIELDS), ("`model:`", spec.MODEL_FIELDS),
                 ("`serving:`", spec.SERVING_FIELDS),
                 ("Length distribution (`prompt_tokens`, `generate_tokens`)", spec.LENGTH_FIELDS),
                 ("`dtypes:`", spec.DTYPE_FIELDS), ("`parallel:`", spec.PARALLEL_FIELDS),
                 ("`ops:` entries", spec.OP_FIELDS), ("`gemm:`", spec.GEMM_FIELDS)]
    lines: list[str] = []
    for title, fields in sections:
        lines += [f"### {title}", "", *_table(fields), ""]
    return "\n".join(lines)
