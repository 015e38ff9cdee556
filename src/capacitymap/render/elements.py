"""Branca elements whose output goes into the page verbatim.

branca puts a MacroElement's rendered script (and any ``Element(text)``) into the page by compiling
that text once more as a Jinja template. Data inside it (an operator named ``{{ 7*7 }}``, a site with
``{% raw %}``) would then be evaluated or break the render, and compiling large pages is slow.
These elements hand their text over as it is.
"""

from __future__ import annotations

from branca.element import Element, Figure, MacroElement

from capacitymap.errors import MapSpecError

__all__ = ["RawHTML", "VerbatimMacro"]


class RawHTML(Element):
    """Text put into the page as it is, never read as a template."""

    def __init__(self, text: str):
        super().__init__()
        self._text = text

    def render(self, **kwargs) -> str:
        return self._text


class VerbatimMacro(MacroElement):
    """A MacroElement whose rendered ``header``/``html``/``script`` macros go into the page verbatim."""

    def render(self, **kwargs) -> None:
        figure = self.get_root()
        if not isinstance(figure, Figure):
            raise MapSpecError("render: expected the map inside a branca Figure, got none; build it with build_map")
        macros = self._template.module.__dict__
        for part, target in (("header", figure.header), ("html", figure.html), ("script", figure.script)):
            macro = macros.get(part)
            if macro is not None:
                target.add_child(RawHTML(macro(self, kwargs)), name=self.get_name())
        for element in self._children.values():
            element.render(**kwargs)
