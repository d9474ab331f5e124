"""Reading the YAML data files (forms, message catalog, reference data, templates.yaml).

PyYAML's `safe_load` parses in pure Python unless told to use libyaml's C parser: the forms alone
took about 0.1 s to read, paid at every start and by every test that builds the bot. With
`CSafeLoader` (the same safe constructor, so the same types and the same refusals) it is about
a tenth of that. Where PyYAML was built without libyaml the pure-Python loader is used.
"""

from __future__ import annotations

from typing import Any

import yaml

try:
    from yaml import CSafeLoader as _Loader
except ImportError:  # pragma: no cover - PyYAML without libyaml
    from yaml import SafeLoader as _Loader  # type: ignore[assignment]  # the same interface


def load_yaml(text: str) -> Any:
    """The document in `text`, as `yaml.safe_load` would give it."""
    return yaml.load(text, Loader=_Loader)
