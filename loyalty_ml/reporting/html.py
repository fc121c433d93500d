"""A self-contained HTML writer: report sections in, one HTML file (images inlined) and PNGs out.

The HTML needs nothing but a browser: styles are inline, figures are embedded as base64 PNG data URIs,
and no script, font or stylesheet is fetched from anywhere. Every text and table cell is escaped.
Files are written atomically (a temporary file in the same folder, then ``os.replace``), so a reader
never sees a half-written report.
"""

from __future__ import annotations

import base64
import html
import io
import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
from matplotlib.figure import Figure

from loyalty_ml.exceptions import ConfigError

__all__ = [
    "ReportFigure",
    "ReportTable",
    "Section",
    "figure_to_png",
    "render_html",
    "write_atomically",
]

_FILE_MODE = 0o644

_STYLE = """
body { font-family: -apple-system, "Segoe UI", Helvetica, Arial, sans-serif; margin: 2em auto;
       max-width: 1100px; color: #222; line-height: 1.45; padding: 0 1em; }
h1 { border-bottom: 2px solid #444; padding-bottom: .2em; }
h2 { border-bottom: 1px solid #bbb; margin-top: 2em; }
table { border-collapse: collapse; margin: .6em 0 1.2em; font-size: .88em; }
th, td { border: 1px solid #ccc; padding: .25em .6em; text-align: right; }
th { background: #f2f2f2; }
caption { caption-side: top; text-align: left; font-weight: bold; padding: .3em 0; }
figure { margin: 1em 0; }
figure img { max-width: 100%; border: 1px solid #ddd; }
figcaption { font-size: .9em; color: #555; }
p.note { font-size: .9em; color: #555; }
nav ul { columns: 2; }
"""


@dataclass(frozen=True, kw_only=True)
class ReportTable:
    """A table of a section: an aggregate DataFrame and a caption (the index is shown)."""

    caption: str
    frame: pd.DataFrame
    digits: int = 4


@dataclass(frozen=True, kw_only=True)
class ReportFigure:
    """A figure of a section, already rendered: ``name`` is the PNG file stem (``[a-z0-9_]+``)."""

    name: str
    caption: str
    png: bytes = field(repr=False)

    def __post_init__(self) -> None:
        if not self.name or not all(ch.isalnum() or ch == "_" for ch in self.name):
            raise ConfigError(
                f"The 'name' of ReportFigure must be a non-empty file stem of letters, digits and "
                f"underscores. Got {self.name!r} instead."
            )


@dataclass(frozen=True, kw_only=True)
class Section:
    """One section of the report.

    Attributes
    ----------
    key : str
        Anchor of the section (``<section id=key>``), e.g. ``"kpis"``.
    title : str
        Heading.
    paragraphs : tuple of str
        Plain-text paragraphs shown under the heading (escaped, never interpreted as HTML).
    tables, figures : tuple
        Shown in this order after the paragraphs.
    notes : tuple of str
        Small print at the end: assumptions and caveats.
    """

    key: str
    title: str
    paragraphs: tuple[str, ...] = ()
    tables: tuple[ReportTable, ...] = ()
    figures: tuple[ReportFigure, ...] = ()
    notes: tuple[str, ...] = ()


def figure_to_png(fig: Figure, *, dpi: int = 110) -> bytes:
    """Render a Matplotlib Figure (object API, no pyplot) to PNG bytes."""
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=dpi)
    return buffer.getvalue()


def format_number(value: float, digits: int = 4) -> str:
    """A number as the report prints it: thousands with separators, small numbers to ``digits``
    significant figures (``123,457``, ``0.5``, ``17.25``); missing as ``n/a``."""
    if pd.isna(value):
        return "n/a"
    return f"{value:,.0f}" if abs(value) >= 1000 else f"{value:.{digits}g}"


def _table_html(table: ReportTable) -> str:
    digits = table.digits

    def number(value: float) -> str:
        return format_number(value, digits)

    frame = table.frame.copy()
    for name in frame.columns[~frame.dtypes.map(pd.api.types.is_float_dtype).to_numpy(bool)]:
        # na_rep covers float NaN only: pd.NA or None in a text column would print "<NA>"/"None"
        column = frame[name]
        if column.isna().any():
            frame[name] = column.astype(object).where(column.notna(), "")
    body = frame.to_html(
        escape=True, border=0, na_rep="", float_format=number, index=True, justify="center"
    )
    # pandas writes a caption only through Styler; insert it after the opening tag instead.
    opening_end = body.index(">") + 1
    caption = f"<caption>{html.escape(table.caption)}</caption>"
    return body[:opening_end] + caption + body[opening_end:]


def _figure_html(figure: ReportFigure) -> str:
    data = base64.b64encode(figure.png).decode("ascii")
    caption = html.escape(figure.caption)
    return (
        f'<figure id="fig-{figure.name}"><img alt="{caption}" src="data:image/png;base64,{data}">'
        f"<figcaption>{caption}</figcaption></figure>"
    )


def _section_html(section: Section) -> str:
    parts = [f'<section id="{html.escape(section.key)}">', f"<h2>{html.escape(section.title)}</h2>"]
    parts += [f"<p>{html.escape(text)}</p>" for text in section.paragraphs]
    parts += [_table_html(table) for table in section.tables]
    parts += [_figure_html(figure) for figure in section.figures]
    parts += [f'<p class="note">{html.escape(text)}</p>' for text in section.notes]
    parts.append("</section>")
    return "\n".join(parts)


def render_html(*, title: str, subtitle: str, sections: list[Section]) -> str:
    """The whole report as one self-contained HTML document.

    Examples
    --------
    >>> page = render_html(title="R & D", subtitle="2024", sections=[Section(key="a", title="A")])
    >>> "<h1>R &amp; D</h1>" in page and '<section id="a">' in page
    True
    """
    keys = [s.key for s in sections]
    if len(set(keys)) != len(keys):
        raise ConfigError(f"render_html: section keys must be unique; got {keys}.")
    toc = "".join(
        f'<li><a href="#{html.escape(s.key)}">{html.escape(s.title)}</a></li>' for s in sections
    )
    body = "\n".join(_section_html(s) for s in sections)
    return (
        "<!DOCTYPE html>\n"
        '<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        f"<title>{html.escape(title)}</title>\n<style>{_STYLE}</style>\n</head>\n<body>\n"
        f"<h1>{html.escape(title)}</h1>\n<p>{html.escape(subtitle)}</p>\n"
        f"<nav><ul>{toc}</ul></nav>\n{body}\n</body>\n</html>\n"
    )


def write_atomically(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` so that ``path`` is either the old file or the complete new one.

    The bytes go to a temporary file in the same folder (same file system), which then replaces
    ``path`` in one ``os.replace``; on any error the temporary file is removed.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(handle, "wb") as stream:
            stream.write(data)
        # mkstemp creates the file private (0600); a report is meant to be read by others.
        os.chmod(tmp, _FILE_MODE)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
