"""Report documents: one builder writes report.md and a self-contained report.html.

Every report (single run, comparison of runs, sweep) is built the same way:

    doc = Document("GPT-2 on npu")
    doc.heading("Energy")
    doc.paragraph("...")
    doc.table(frame)                      # a pandas DataFrame
    doc.figure(fig, "energy_by_component", "Energy by component")  # a matplotlib Figure
    doc.write(out_dir)                    # -> out_dir/report.md, report.html, *.png, *.svg

Figures are saved as PNG and SVG next to the report; report.md links the PNG,
report.html embeds it (base64), so the HTML opens anywhere on its own.
"""
from __future__ import annotations

import base64
import html
import io
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from .errors import OutputError

_STYLE = """body{font-family:system-ui,-apple-system,Segoe UI,sans-serif;max-width:1100px;margin:2em auto;
padding:0 1em;color:#222}table{border-collapse:collapse;margin:1em 0;font-size:0.9em}
th,td{border:1px solid #ccc;padding:3px 8px;text-align:right}th{background:#f0f0f0}
td:first-child,th:first-child{text-align:left}figure{margin:1.5em 0}img{max-width:100%}
figcaption{color:#555;font-size:0.9em}code{background:#f4f4f4;padding:0 3px}"""


@dataclass
class Document:
    title: str
    blocks: list[tuple[str, object]] = field(default_factory=list)

    def heading(self, text: str) -> None:
        self.blocks.append(("heading", text))

    def paragraph(self, text: str) -> None:
        self.blocks.append(("paragraph", text))

    def table(self, frame: pd.DataFrame, floatfmt: str = "{:,.4g}") -> None:
        self.blocks.append(("table", (frame, floatfmt)))

    def figure(self, fig, name: str, caption: str) -> None:
        """Keep a matplotlib figure; it is rendered (and closed) when written."""
        self.blocks.append(("figure", (fig, name, caption)))

    def write(self, directory: str | Path) -> Path:
        """Write report.md, report.html and the figures; return the HTML path."""
        out = Path(directory)
        try:
            out.mkdir(parents=True, exist_ok=True)
            md, body = [f"# {self.title}", ""], [f"<h1>{html.escape(self.title)}</h1>"]
            for kind, value in self.blocks:
                getattr(self, f"_render_{kind}")(value, out, md, body)
            (out / "report.md").write_text("\n".join(md) + "\n", encoding="utf-8")
            page = (f"<!doctype html><html><head><meta charset='utf-8'><title>{html.escape(self.title)}"
                    f"</title><style>{_STYLE}</style></head><body>\n" + "\n".join(body) + "\n</body></html>\n")
            (out / "report.html").write_text(page, encoding="utf-8")
        except OSError as exc:
            raise OutputError(f"{out}: cannot write report: {exc.strerror or exc}") from None
        return out / "report.html"

    @staticmethod
    def _render_heading(text, out, md, body) -> None:
        md += [f"## {text}", ""]
        body.append(f"<h2>{html.escape(text)}</h2>")

    @staticmethod
    def _render_paragraph(text, out, md, body) -> None:
        md += [text, ""]
        body.append(f"<p>{html.escape(text)}</p>")

    @staticmethod
    def _render_table(value, out, md, body) -> None:
        frame, floatfmt = value
        cells = frame.map(lambda v: floatfmt.format(v) if isinstance(v, float) else str(v))
        header = [str(c) for c in frame.columns]
        md += ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
        md += ["| " + " | ".join(row) + " |" for row in cells.itertuples(index=False)]
        md.append("")
        rows = "".join("<tr>" + "".join(f"<td>{html.escape(c)}</td>" for c in row) + "</tr>"
                       for row in cells.itertuples(index=False))
        body.append("<table><tr>" + "".join(f"<th>{html.escape(h)}</th>" for h in header)
                    + f"</tr>{rows}</table>")

    @staticmethod
    def _render_figure(value, out, md, body) -> None:
        import matplotlib.pyplot as plt

        fig, name, caption = value
        png = io.BytesIO()
        fig.savefig(png, format="png", dpi=110, bbox_inches="tight")
        (out / f"{name}.png").write_bytes(png.getvalue())
        fig.savefig(out / f"{name}.svg", format="svg", bbox_inches="tight")
        plt.close(fig)
        md += [f"![{caption}]({name}.png)", "", f"*{caption}*", ""]
        data = base64.b64encode(png.getvalue()).decode("ascii")
        body.append(f"<figure><img alt='{html.escape(caption)}' src='data:image/png;base64,{data}'>"
                    f"<figcaption>{html.escape(caption)}</figcaption></figure>")
