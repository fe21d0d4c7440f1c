"""Pages handed over before the interpreter answers: what a virtualenv's files tell, checked against the probe."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from envfactory import make_venv, site_packages
from reprolock.sources.probe import likely_answer, pip_default_in, probe


def test_a_virtualenvs_files_tell_what_its_interpreter_answers(tmp_path):
    venv = make_venv(tmp_path / "venv")
    likely = likely_answer(str(venv), tmp_path)
    interpreter = probe(str(venv), tmp_path)
    assert likely is not None
    assert likely.agrees(interpreter)
    assert (likely.python, likely.version) == (interpreter.python, interpreter.version)
    assert likely.site_packages == str(site_packages(venv))
    assert likely.pip_index_url is None  # made without pip: the probe finds none either
    assert interpreter.pip_index_url is None


def test_the_interpreter_is_named_as_the_probe_names_it(tmp_path):
    venv = make_venv(tmp_path / "venv")
    executable = str(venv / "bin" / "python")
    by_path = likely_answer(executable, tmp_path)
    assert by_path is not None
    assert by_path.python == executable
    assert by_path.agrees(probe(executable, tmp_path))


def test_a_guess_the_interpreter_contradicts_is_not_kept(tmp_path):
    venv = make_venv(tmp_path / "venv")
    config = venv / "pyvenv.cfg"
    config.write_text("".join(line if not line.startswith("version") else "version = 3.0.1\n" for line in config.read_text().splitlines(keepends=True)))
    likely = likely_answer(str(venv), tmp_path)
    assert likely is not None
    assert likely.version == "3.0.1"
    assert not likely.agrees(probe(str(venv), tmp_path))


def test_no_guess_for_an_interpreter_that_is_not_a_plain_virtualenv(tmp_path):
    assert likely_answer(str(Path(sys.base_prefix) / "bin" / "python3"), tmp_path) is None  # no pyvenv.cfg
    assert likely_answer(str(make_venv(tmp_path / "sees-system", system_site=True)), tmp_path) is None
    assert likely_answer(str(tmp_path / "missing"), tmp_path) is None


def test_pips_default_index_is_read_from_its_source_as_the_probe_reads_it(tmp_path):
    models = tmp_path / "pip" / "_internal" / "models"
    models.mkdir(parents=True)
    (models / "index.py").write_text('class PackageIndex:\n    pass\n\n\nPyPI = PackageIndex("http://127.0.0.1:9/", file_storage_domain="x")\n')
    assert pip_default_in(str(tmp_path / "pip")) == "http://127.0.0.1:9/simple"
    (models / "index.py").write_text('URL = "http://127.0.0.1:8/"\nPyPI = PackageIndex(URL, file_storage_domain="x")\n')
    assert pip_default_in(str(tmp_path / "pip")) is None  # not a plain line: only importing pip would tell
    assert pip_default_in(str(tmp_path / "nowhere")) is None


def test_the_running_pips_default_read_from_source_is_the_one_pip_imports():
    import pip  # noqa: PLC0415 - the test environment's own pip

    imported = subprocess.run(
        [sys.executable, "-c", "from pip._internal.models.index import PyPI; print(PyPI.simple_url)"], capture_output=True, text=True, check=True
    ).stdout.strip()
    assert pip_default_in(str(Path(pip.__file__).parent)) == imported
