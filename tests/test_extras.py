"""One import guard for the optional dependencies: it names the extra that installs each."""

from __future__ import annotations

import sys

import pytest

from focal_boost._util.extras import EXTRAS, require


@pytest.mark.parametrize("module", sorted(EXTRAS))
def test_a_missing_extra_is_named(module, monkeypatch):
    monkeypatch.setitem(sys.modules, module, None)  # `import module` now raises ImportError
    name, extra = EXTRAS[module]
    with pytest.raises(ImportError, match=rf"^someone needs {name}: pip install 'focal-boost\[{extra}\]'$"):
        require(module, "someone")


def test_an_installed_module_is_returned():
    dask = pytest.importorskip("dask")
    assert require("dask", "test") is dask
