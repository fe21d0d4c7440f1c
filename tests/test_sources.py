"""Reading inputs: includes, kinds, encodings, pyproject, pylock and freeze."""

from __future__ import annotations

import codecs
import textwrap
from typing import TYPE_CHECKING

import pytest

from reprolock.records import FileKind
from reprolock.sources.loader import load
from reprolock.sources.requirements import parse_text

if TYPE_CHECKING:
    from pathlib import Path


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text).lstrip(), encoding="utf-8")
    return path


def test_records_carry_every_field_with_origin():
    parsed = parse_text(
        'Django[argon2,bcrypt] >= 4.2, < 5 ; python_version >= "3.10" --hash=sha256:' + "a" * 64 + "\n",
        "r.txt",
    )
    (req,) = parsed.requirements
    assert req.name == "django"
    assert req.raw_name == "Django"
    assert str(req.specifier) == "<5,>=4.2"
    assert req.extras == ("argon2", "bcrypt")
    assert req.marker == 'python_version >= "3.10"'
    assert req.hashes == ("sha256:" + "a" * 64,)
    assert str(req.origin) == "r.txt:1"
    assert req.pinned_version is None


def test_wildcard_is_not_a_pin_and_triple_equals_is():
    parsed = parse_text("a==1.*\nb===1.0-local\nc==2.0\n", "r.txt")
    assert [r.pinned_version for r in parsed.requirements] == [None, "1.0-local", "2.0"]


def test_vcs_url_is_not_a_local_path():
    parsed = parse_text("-e git+https://github.com/org/repo.git@main#egg=repo\n./vendor/pkg\n", "r.txt")
    vcs, local = parsed.requirements
    assert vcs.vcs is not None
    assert vcs.vcs.ref == "main"
    assert not vcs.local
    assert local.local


def test_continuations_and_hash_lines_keep_the_first_line_number():
    text = "# header\nfoo==1.0 \\\n    --hash=sha256:" + "b" * 64 + " \\\n    --hash=sha256:" + "c" * 64 + "\nbar==2.0\n"
    parsed = parse_text(text, "r.txt")
    assert [(r.name, r.origin.line, len(r.hashes)) for r in parsed.requirements] == [("foo", 2, 2), ("bar", 5, 0)]
    assert parsed.hash_mode


def test_options_are_kept_and_two_options_on_one_line(tmp_path):
    parsed = parse_text("--extra-index-url https://example.org/simple --trusted-host example.org\n--find-links ./wheels\n", "r.txt")
    assert [(o.option, o.value, o.origin.line) for o in parsed.options] == [
        ("--extra-index-url", "https://example.org/simple", 1),
        ("--trusted-host", "example.org", 1),
        ("--find-links", "./wheels", 2),
    ]


def test_env_vars_stay_unexpanded(monkeypatch):
    monkeypatch.setenv("TOKEN", "expanded-value")
    parsed = parse_text("pkg @ https://${TOKEN}@example.org/pkg-1.0.tar.gz\n", "r.txt")
    assert [v.name for v in parsed.env_vars] == ["TOKEN"]
    assert "${TOKEN}" in parsed.requirements[0].text
    assert "expanded-value" not in repr(parsed)


def test_includes_are_relative_to_the_including_file(tmp_path):
    write(tmp_path / "reqs" / "base.txt", "requests==2.31.0\n")
    write(tmp_path / "reqs" / "dev.txt", "-r base.txt\n-c ../constraints/pins.txt\npytest\n")
    write(tmp_path / "constraints" / "pins.txt", "urllib3==2.0.0\n")
    files = load(["reqs/dev.txt"], cwd=tmp_path)
    assert [(f.path, f.kind) for f in files] == [
        ("reqs/dev.txt", FileKind.REQUIREMENTS),
        ("reqs/base.txt", FileKind.REQUIREMENTS),
        ("constraints/pins.txt", FileKind.CONSTRAINTS),
    ]
    assert str(files[1].included_from) == "reqs/dev.txt:1"
    assert files[2].requirements[0].constraint


def test_a_file_included_twice_is_read_once(tmp_path):
    write(tmp_path / "common.txt", "six==1.16.0\n")
    write(tmp_path / "a.txt", "-r common.txt\n")
    write(tmp_path / "b.txt", "-r common.txt\n")
    files = load(["a.txt", "b.txt"], cwd=tmp_path)
    assert [f.path for f in files] == ["a.txt", "common.txt", "b.txt"]


def test_include_loop_is_exit_3_with_the_chain(tmp_path, cli):
    write(tmp_path / "a.txt", "flask==2.0.0\n-r b.txt\n")
    write(tmp_path / "b.txt", "-r a.txt\n")
    result = cli("audit", "a.txt", cwd=tmp_path)
    assert result.code == 3
    assert "include loop" in result.err
    assert "a.txt:2 (-r b.txt) -> b.txt:1 (-r a.txt) -> a.txt" in result.err
    assert result.err.count("\n") == 1
    assert "Traceback" not in result.err


def test_missing_include_is_exit_3_naming_line_and_chain(tmp_path, cli):
    write(tmp_path / "top.txt", "-r sub/mid.txt\n")
    write(tmp_path / "sub" / "mid.txt", "x==1\n-c nowhere.txt\n")
    result = cli("audit", "top.txt", cwd=tmp_path)
    assert result.code == 3
    assert "sub/mid.txt:2: -c nowhere.txt" in result.err
    assert "sub/nowhere.txt does not exist" in result.err
    assert "top.txt:1 (-r sub/mid.txt) -> sub/mid.txt" in result.err


def test_include_through_unset_variable_is_exit_3(tmp_path, cli, monkeypatch):
    monkeypatch.delenv("REQ_DIR", raising=False)
    write(tmp_path / "r.txt", "-r ${REQ_DIR}/base.txt\n")
    result = cli("audit", "r.txt", cwd=tmp_path)
    assert result.code == 3
    assert "${REQ_DIR} is not set" in result.err


def test_include_through_set_variable_is_followed_and_reported_unexpanded(tmp_path, cli, monkeypatch):
    write(tmp_path / "inc" / "base.txt", "flask==2.0.0\n")
    write(tmp_path / "r.txt", "-r ${REQ_DIR}/base.txt\n")
    monkeypatch.setenv("REQ_DIR", "inc")
    result = cli("audit", "r.txt", "--format", "json", cwd=tmp_path)
    report = result.json
    assert [i["path"] for i in report["inputs"]] == ["r.txt", "inc/base.txt"]
    assert any(f["rule"] == "RL107" and "${REQ_DIR}" in f["message"] for f in report["findings"])


@pytest.mark.parametrize(
    ("name", "text", "kind"),
    [
        ("requirements.in", "flask\n", FileKind.INPUT),
        ("constraints-prod.txt", "flask==2.0.0\n", FileKind.CONSTRAINTS),
        ("env-freeze.txt", "flask==2.0.0\n", FileKind.FREEZE),
        ("deps.txt", "click==8.1.7\nFlask==2.0.0\nitsdangerous==2.1.2\n", FileKind.FREEZE),
        ("deps.txt", "# via pip-compile\nclick==8.1.7\nflask==2.0.0\nitsdangerous==2.1.2\n", FileKind.REQUIREMENTS),
        ("deps.txt", "flask==2.0.0\nclick==8.1.7\nitsdangerous==2.1.2\n", FileKind.REQUIREMENTS),
        ("deps.txt", "a==1\nb==2\n## The following requirements were added by pip --freeze:\nc==3\n", FileKind.FREEZE),
        ("requirements.txt", "flask>=2\n", FileKind.REQUIREMENTS),
    ],
)
def test_kind_is_inferred_from_name_then_content(tmp_path, name, text, kind):
    write(tmp_path / name, text)
    (source,) = load([name], cwd=tmp_path)
    assert source.kind is kind


def test_kind_override(tmp_path):
    write(tmp_path / "requirements.txt", "flask>=2\n")
    (source,) = load(["requirements.txt"], cwd=tmp_path, kind=FileKind.INPUT)
    assert source.kind is FileKind.INPUT


def test_discovery_finds_what_the_contract_lists(tmp_path):
    for name in ["requirements.txt", "requirements-dev.txt", "requirements/test.txt", "docs.in", "constraints.txt", "pylock.toml"]:
        write(tmp_path / name, "six==1.16.0\n" if not name.endswith(".toml") else 'lock-version = "1.0"\ncreated-by = "t"\n[[packages]]\nname = "six"\nversion = "1.16.0"\n[[packages.wheels]]\nurl = "https://example.org/six-1.16.0-py2.py3-none-any.whl"\nhashes = {sha256 = "' + "d" * 64 + '"}\n')
    write(tmp_path / "pyproject.toml", '[project]\nname = "x"\nversion = "1"\ndependencies = ["six"]\n')
    write(tmp_path / "notes.txt", "not a requirements file\n")
    write(tmp_path / "vendor" / "requirements.txt", "ignored==1\n")
    files = load([], cwd=tmp_path)
    assert sorted(f.path for f in files) == sorted(
        ["requirements.txt", "requirements-dev.txt", "requirements/test.txt", "docs.in", "constraints.txt", "pylock.toml", "pyproject.toml"],
    )


def test_directory_argument_is_searched(tmp_path, cli):
    write(tmp_path / "app" / "requirements.txt", "six==1.16.0\n")
    result = cli("audit", "app", "--format", "json", cwd=tmp_path)
    assert result.json["inputs"] == [{"path": "app/requirements.txt", "kind": "requirements"}]


def test_empty_directory_is_exit_3(tmp_path, cli):
    result = cli("audit", cwd=tmp_path)
    assert result.code == 3
    assert "no requirement" in result.err


def test_freeze_from_stdin(tmp_path, cli):
    result = cli("audit", "--freeze", "-", "--format", "json", cwd=tmp_path, stdin="pkg-resources==0.0.0\nsix==1.16.0\n")
    report = result.json
    assert report["inputs"] == [{"path": "<stdin>", "kind": "freeze"}]
    assert {"path": "<stdin>", "line": 1} in [f["location"] for f in report["findings"] if f["rule"] == "RL201"]


def test_utf16_freeze_from_powershell_is_read(tmp_path):
    (tmp_path / "freeze.txt").write_bytes(codecs.BOM_UTF16_LE + "Flask==2.0.1\r\nsix==1.16.0\r\n".encode("utf-16-le"))
    (source,) = load(["freeze.txt"], cwd=tmp_path)
    assert [(r.name, r.pinned_version) for r in source.requirements] == [("flask", "2.0.1"), ("six", "1.16.0")]


def test_binary_file_is_exit_3(tmp_path, cli):
    (tmp_path / "requirements.txt").write_bytes(b"\x7fELF\x02\x01\x01\x00\x00\x00")
    result = cli("audit", "requirements.txt", cwd=tmp_path)
    assert result.code == 3
    assert "requirements.txt: not a text file" in result.err


def test_invalid_utf8_is_exit_3_with_line(tmp_path, cli):
    (tmp_path / "requirements.txt").write_bytes(b"six==1.16.0\nfoo==1.0 # caf\xe9\n")
    result = cli("audit", "requirements.txt", cwd=tmp_path)
    assert result.code == 3
    assert "requirements.txt:2: not a text file" in result.err


def test_missing_file_is_exit_3(tmp_path, cli):
    result = cli("audit", "nope.txt", cwd=tmp_path)
    assert result.code == 3
    assert result.err == "reprolock: error: nope.txt: no such file (check the path)\n"


PYPROJECT = """
[build-system]
requires = ["hatchling>=1.24"]
build-backend = "hatchling.build"

[project]
name = "demo"
version = "1.0"
dependencies = [
    "requests>=2.28",
    "rich==13.7.1",
]

[project.optional-dependencies]
cli = ["click~=8.1"]

[dependency-groups]
test = ["pytest>=8", {include-group = "lint"}]
lint = ["ruff==0.6.0", "not a valid requirement!!"]
"""


def test_pyproject_sections_and_lines(tmp_path):
    write(tmp_path / "pyproject.toml", PYPROJECT)
    (source,) = load(["pyproject.toml"], cwd=tmp_path)
    got = [(r.name, r.section, r.origin.line) for r in source.requirements]
    assert got == [
        ("requests", "project.dependencies", 9),
        ("rich", "project.dependencies", 10),
        ("click", "project.optional-dependencies.cli", 14),
        ("pytest", "dependency-groups.test", 17),
        ("ruff", "dependency-groups.lint", 18),
        ("hatchling", "build-system.requires", 2),
    ]
    (invalid,) = source.invalid
    assert invalid.origin.line == 18
    assert source.kind is FileKind.PYPROJECT


def test_invalid_toml_is_exit_3_with_line(tmp_path, cli):
    write(tmp_path / "pyproject.toml", "[project]\nname = \n")
    result = cli("audit", "pyproject.toml", cwd=tmp_path)
    assert result.code == 3
    assert result.err.startswith("reprolock: error: pyproject.toml:2: invalid TOML")


PYLOCK = """
lock-version = "1.0"
created-by = "test"
requires-python = ">=3.11"

[[packages]]
name = "six"
version = "1.16.0"
index = "https://example.org/simple"

[[packages.wheels]]
url = "https://example.org/files/six-1.16.0-py2.py3-none-any.whl"
hashes = {sha256 = "1e61c37477a1626458e36f7b1d82aa5c9b094fa4802892072e49de9c60c4c926"}

[[packages]]
name = "tool"
version = "2.0"

[packages.vcs]
type = "git"
url = "https://example.org/tool.git"
commit-id = "0123456789abcdef0123456789abcdef01234567"
"""


def test_pylock_is_read_and_validated(tmp_path):
    write(tmp_path / "pylock.toml", PYLOCK)
    (source,) = load(["pylock.toml"], cwd=tmp_path)
    assert source.kind is FileKind.PYLOCK
    six, tool = source.requirements
    assert (six.name, six.pinned_version, six.origin.line, six.hashes[0][:7]) == ("six", "1.16.0", 6, "sha256:")
    assert tool.vcs is not None
    assert tool.vcs.is_full_commit


def test_invalid_pylock_names_the_key_path(tmp_path, cli):
    write(tmp_path / "pylock.toml", PYLOCK.replace('version = "1.16.0"', "version = 1"))
    result = cli("audit", "pylock.toml", cwd=tmp_path)
    assert result.code == 3
    assert "invalid pylock file at packages[0].version" in result.err


@pytest.mark.parametrize("header", ["## The following requirements were added by pip freeze:", "## The following requirements were added by pip --freeze:"])
def test_added_by_freeze_block_old_and_new_pip(header):
    parsed = parse_text(f"flask==2.0.0\n{header}\nclick==8.1.7\nwsgiref==0.1.2\n", "f.txt")
    assert [(r.name, r.added_by_freeze) for r in parsed.requirements] == [("flask", False), ("click", True), ("wsgiref", True)]


def test_freeze_comments_name_their_distribution():
    text = "# Editable install with no version control (webapp==0.1.0)\n-e /src/webapp\n## !! Could not determine repository location\nfoo==1.0\n"
    parsed = parse_text(text, "f.txt")
    assert [(c.note.value, c.package, c.origin.line) for c in parsed.freeze_comments] == [
        ("editable-without-vcs", "webapp", 1),
        ("no-repository-location", None, 3),
    ]
