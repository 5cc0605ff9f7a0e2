"""Figures with their targets, the printed table and the JSON document."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

UNITS = {"ratio": "×", "s": " s", "ms": " ms", "MiB": " MiB", "count": "", "text": ""}


@dataclass
class Figure:
    """One measured figure; `limit` with `op` is its target (None: shown for context only)."""

    section: str
    name: str
    value: float | int | str | None
    unit: str  # ratio | s | ms | MiB | count | text
    limit: float | int | str | None = None
    op: str = "<="  # <= | ==
    note: str = ""
    smoke: bool = False  # measured at smoke sizes: the target is not judged

    @property
    def holds(self) -> bool | None:
        """Whether the target holds; None when there is none, or in smoke mode for scale-bound targets."""
        if self.limit is None or self.value is None or self.smoke:
            return None
        if self.op == "==":
            return self.value == self.limit
        return self.value <= self.limit

    def measured(self) -> str:
        """The value as printed."""
        return _fmt(self.value, self.unit)

    def target(self) -> str:
        """The target as printed."""
        if self.limit is None:
            return ""
        return ("≤ " if self.op == "<=" else "") + _fmt(self.limit, self.unit)

    def as_json(self) -> dict[str, Any]:
        """The same figure for the JSON document."""
        return {
            "section": self.section, "figure": self.name, "measured": self.value, "unit": self.unit,
            "target": None if self.limit is None else {"op": self.op, "value": self.limit},
            "holds": self.holds, "note": self.note or None,
        }


def _fmt(value: Any, unit: str) -> str:
    if value is None:
        return "-"
    if isinstance(value, str):
        return value
    if unit == "ratio":
        return f"{value:.2f}×"
    if unit == "s":
        return f"{value:.2f} s"
    if unit == "ms":
        return f"{value:.1f} ms" if value < 100 else f"{value:.0f} ms"
    if unit == "MiB":
        return f"{value:.0f} MiB"
    if isinstance(value, float):
        return f"{value:g}"
    return f"{value:,}"


@dataclass
class Report:
    """Everything one benchmark run found."""

    mode: str
    machine: dict[str, Any]
    figures: list[Figure] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    details: dict[str, Any] = field(default_factory=dict)

    def add(self, *figures: Figure) -> None:
        """Append figures in the order they are printed."""
        self.figures.extend(figures)

    def table(self) -> str:
        """A plain-text table: figure, measured, target, holds."""
        rows = [("Figure", "Measured", "Target", "Holds")]
        section = None
        lines: list[str | tuple[str, str, str, str]] = []
        for f in self.figures:
            if f.section != section:
                section = f.section
                lines.append(section)
            holds = {True: "yes", False: "NO", None: "n/a (smoke)" if f.smoke and f.limit is not None else "-"}[f.holds]
            lines.append(("  " + f.name, f.measured(), f.target(), holds))
        widths = [max(len(r[i]) for r in rows + [x for x in lines if isinstance(x, tuple)]) for i in range(4)]
        out = [_row(rows[0], widths), _row(tuple("-" * w for w in widths), widths)]
        for x in lines:
            out.append(x if isinstance(x, str) else _row(x, widths))
        return "\n".join(out)

    def as_json(self) -> dict[str, Any]:
        """The same figures, plus the machine, notes and raw samples."""
        judged = [f.holds for f in self.figures if f.holds is not None]
        return {
            "mode": self.mode,
            "machine": self.machine,
            "all_targets_hold": all(judged) if judged else None,
            "figures": [f.as_json() for f in self.figures],
            "notes": self.notes,
            "details": self.details,
        }


def _row(cells: tuple[str, ...], widths: list[int]) -> str:
    return "  ".join([cells[0].ljust(widths[0]), cells[1].rjust(widths[1]), cells[2].rjust(widths[2]), cells[3].ljust(widths[3])]).rstrip()
