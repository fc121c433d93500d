"""The cleaning report: every rule a validator applied, with how many rows it flagged and removed."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pandas as pd

__all__ = ["CleaningReport", "CleaningStep"]


@dataclass(frozen=True)
class CleaningStep:
    """One cleaning rule.

    ``flagged`` counts the rows of the input that match the rule, independently of every other rule (so it
    can be compared with a data set's documented dirt); ``removed`` counts the rows this rule removed, in
    the order the rules run (a row is removed by the first rule that matches it), so the ``removed`` counts
    add up to ``rows_in - rows_out``.
    """

    rule: str
    description: str
    flagged: int
    removed: int
    action: str = "drop"


@dataclass
class CleaningReport:
    """What a validator did to a table. Read it, print it, or log ``as_dict()`` to MLflow.

    ``rows_in`` and ``rows_out`` count the table's rows before and after; ``steps`` holds one
    :class:`CleaningStep` per rule that ran; ``notes`` are remarks that changed no row;
    ``left_out`` names the input's columns that are not in the output (not canonical).
    """

    table: str
    rows_in: int
    rows_out: int = 0
    steps: list[CleaningStep] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    left_out: list[str] = field(default_factory=list)

    def add(
        self, rule: str, description: str, *, flagged: int, removed: int, action: str = "drop"
    ) -> None:
        """Record one rule: its name, a ``description`` in words, the rows it ``flagged`` and the
        rows it ``removed``, and its ``action`` (``"drop"``, ``"keep"`` when the rows stay, as with
        ``returns="keep"``, or ``"fill"`` when values were repaired)."""
        self.steps.append(CleaningStep(rule, description, int(flagged), int(removed), action))

    def flagged(self, rule: str) -> int:
        """Rows of the input flagged by ``rule`` (0 when the rule did not run)."""
        return sum(s.flagged for s in self.steps if s.rule == rule)

    def removed(self, rule: str) -> int:
        """Rows removed by ``rule`` (0 when the rule did not run)."""
        return sum(s.removed for s in self.steps if s.rule == rule)

    @property
    def rows_removed(self) -> int:
        return self.rows_in - self.rows_out

    def to_frame(self) -> pd.DataFrame:
        """One row per rule: ``rule``, ``description``, ``action``, ``flagged``, ``removed``."""
        return pd.DataFrame(
            [(s.rule, s.description, s.action, s.flagged, s.removed) for s in self.steps],
            columns=["rule", "description", "action", "flagged", "removed"],
        )

    def as_dict(self) -> dict[str, Any]:
        """Flat counts, e.g. for ``mlflow.log_metrics``."""
        out: dict[str, Any] = {"rows_in": self.rows_in, "rows_out": self.rows_out}
        for s in self.steps:
            out[f"flagged_{s.rule}"] = s.flagged
            out[f"removed_{s.rule}"] = s.removed
        return out

    def to_json(self) -> dict[str, Any]:
        """The whole report as plain JSON types: what validators put in ``DataFrame.attrs``.

        ``DataFrame.attrs`` must hold JSON types: pandas writes them into Parquet files (and fails on
        other objects), and reads them back with the table.
        """
        return {
            "table": self.table,
            "rows_in": int(self.rows_in),
            "rows_out": int(self.rows_out),
            "steps": [
                [s.rule, s.description, int(s.flagged), int(s.removed), s.action]
                for s in self.steps
            ],
            "notes": list(self.notes),
            "left_out": list(self.left_out),
        }

    @classmethod
    def from_json(cls, data: Any) -> CleaningReport | None:
        """The report :meth:`to_json` wrote, or None when ``data`` is not one."""
        try:
            steps = [
                CleaningStep(str(r), str(d), int(f), int(n), str(a))
                for r, d, f, n, a in data["steps"]
            ]
            return cls(
                table=str(data["table"]),
                rows_in=int(data["rows_in"]),
                rows_out=int(data["rows_out"]),
                steps=steps,
                notes=[str(n) for n in data["notes"]],
                # reports saved before the columns left out were listed have none
                left_out=[str(c) for c in data.get("left_out", [])],
            )
        except (KeyError, TypeError, ValueError):
            return None

    def __str__(self) -> str:
        lines = [
            f"Cleaning report for {self.table}: {self.rows_in:,} rows in, {self.rows_out:,} out"
        ]
        for s in self.steps:
            # a drop counts the rows it removed; a fill or keep acts on every row it flagged
            acted = s.removed if s.action == "drop" else s.flagged
            lines.append(
                f"  {s.rule:<22} flagged {s.flagged:>10,}  {s.action:<6} {acted:>10,}"
                f"  {s.description}"
            )
        lines.extend(f"  note: {n}" for n in self.notes)
        if self.left_out:
            more = f" and {len(self.left_out) - 20} more" if len(self.left_out) > 20 else ""
            lines.append(f"  left out (not canonical): {', '.join(self.left_out[:20])}{more}")
        return "\n".join(lines)
