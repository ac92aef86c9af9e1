"""The README's training loop runs as written on MovieLens and fits the ratings."""

import os
import pathlib
import re

import numpy as np
import pytest

from conftest import require

SOURCE = pathlib.Path(os.environ.get("MFGRAD_SOURCE_DIR", pathlib.Path(__file__).resolve().parents[2]))
DATA = pathlib.Path(os.environ.get("MFGRAD_DATA_DIR", SOURCE.parent / "shared" / "data"))


def readme_block(containing):
    text = (SOURCE / "README.md").read_text()
    section = text[text.index("## From Python") :]
    blocks = re.findall(r"```python\n(.*?)```", section, flags=re.S)
    return next(b for b in blocks if containing in b)


def test_the_training_loop_runs_as_written(monkeypatch, capsys):
    require("torch")
    ratings_file = DATA / "ml-latest-small" / "ratings.csv"
    if not ratings_file.exists():
        pytest.skip(f"{ratings_file} is absent")
    code = readme_block("MaskedMF(")
    monkeypatch.chdir(DATA)
    scope = {}
    exec(compile(code, "README.md", "exec"), scope)
    assert "RMS error on the ratings" in capsys.readouterr().out
    # Fitted: far better than predicting every rating by their mean.
    ratings = np.loadtxt(ratings_file, delimiter=",", skiprows=1, usecols=2)
    assert scope["rmse"] < 0.5 * ratings.std()
