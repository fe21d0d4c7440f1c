"""Container images (issue 17 part 2): an image's Python environments read from its files, nothing run.

The images are made here from real files, with no daemon (``imagefactory.py``): the machine's own Debian
Python and dist-packages with dpkg's records for them, virtualenvs made by ``python -m venv``, real wheels
installed by real pip; packed as ``docker save`` archives and OCI layouts and archives, which skopeo reads.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import tarfile
from dataclasses import dataclass
from pathlib import Path

import jsonschema
import pytest
from packaging.version import Version

from conftest import findings, run_cli
from debianparts import (
    DPKG_STATUS,
    DebianPackage,
    add_debian_packages,
    add_stdlib,
    built_debian_package,
    debian_package,
    status_paragraphs,
)
from envfactory import make_venv, pip_install, site_packages
from imagefactory import (
    SITE,
    VENV_CFG,
    Image,
    Layer,
    audit,
    docker_archive,
    installed,
    oci_archive,
    oci_layout,
    one_line_error,
    skopeo_inspect,
)
from reportkit import SARIF_SCHEMA
from reprolock.sources.metadata import scan_entry
from wheelfactory import Dist, build_wheel

CI = bool(os.environ.get("CI"))
DISTRO_PYTHON = Path("/usr/bin/python3")
CANDIDATES = ("python3-jinja2", "python3-markupsafe", "python3-yaml", "python3-six", "python3-idna", "python3-certifi", "python3-pip")


def needs(tool: str) -> None:
    """Skip without ``tool``, with a reason; under CI (``.ci/run`` installs it) its absence fails the test."""
    if shutil.which(tool):
        return
    if CI:
        pytest.fail(f"{tool} is missing and CI is set: .ci/run installs it")
    pytest.skip(f"{tool} is not installed (apt-get install {tool}); CI installs it")


# -- (a) the machine's own Debian Python, two dpkg packages, and pip's newer copy of one of them ----------


@dataclass(frozen=True)
class DebianImage:
    image: Image
    shadowed: DebianPackage
    """Its distribution is pip-installed again, newer, in /usr/local."""
    alone: DebianPackage
    name: str
    """The shadowed distribution's normalised name."""
    raw_name: str
    distro_version: str
    pip_version: str
    xy: str
    python_version: str


def _debian_packages(paragraphs: dict[str, str], tmp: Path) -> list[DebianPackage]:
    """Two installed Debian packages of Python distributions; else two built from real wheels (a machine without them)."""
    found = [package for package in (debian_package(name, paragraphs) for name in CANDIDATES) if package is not None]
    if len(found) >= 2:
        return found[:2]
    wheels = tmp / "debian-wheels"
    return [
        built_debian_package("python3-alpha", build_wheel(Dist("alpha", "1.0"), wheels), tmp / "alpha-root"),
        built_debian_package("python3-beta", build_wheel(Dist("beta", "2.0"), wheels), tmp / "beta-root"),
    ]


@pytest.fixture(scope="module")
def debian(tmp_path_factory) -> DebianImage:
    real = DISTRO_PYTHON.resolve()
    xy = real.name.removeprefix("python")
    stdlib = Path(f"/usr/lib/python{xy}")
    if not (real.is_file() and (stdlib / "os.py").is_file() and DPKG_STATUS.is_file()):
        pytest.skip("no Debian Python (/usr/bin/python3, dpkg) on this machine")
    tmp = tmp_path_factory.mktemp("debian-image")
    paragraphs = status_paragraphs()
    python_status = "".join(paragraphs[name] + "\n" for name in (f"python{xy}-minimal", f"libpython{xy}-minimal", "libc6") if name in paragraphs)
    shadowed, alone = _debian_packages(paragraphs, tmp)
    (dist,) = [dist for dist in scan_entry(str(shadowed.root / "usr/lib/python3/dist-packages"), 0) if dist.metadata_path.endswith(shadowed.metadata.name)]
    newer = f"{dist.version}.1" if Version(dist.version).release else "999.0"
    wheel = build_wheel(Dist(dist.raw_name, newer), tmp / "wheels")
    target = tmp / "pip-target"
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "-q", "--no-index", "--no-deps", "--target", str(target), str(wheel)],
        check=True,
        env={**os.environ, "PIP_CONFIG_FILE": os.devnull},
    )
    base = Layer("/bin/sh -c #(nop) ADD file:0123abcd in / ").file(f"/usr/bin/python{xy}", real, mode=0o755).link("/usr/bin/python3", f"python{xy}")
    add_stdlib(base, stdlib).file("/var/lib/dpkg/status", python_status)
    names = f"{shadowed.name} {alone.name}"
    apt = Layer(f"RUN /bin/sh -c apt-get update && apt-get install -y {names} # buildkit")
    apt.file("/var/lib/dpkg/status", python_status + shadowed.status + "\n" + alone.status)
    add_debian_packages(apt, [shadowed, alone])
    pip = Layer(f"RUN /bin/sh -c pip install --break-system-packages {dist.raw_name}=={newer} # buildkit")
    pip.tree(f"/usr/local/lib/python{xy}/dist-packages", target)
    version = re.search(r"Version: (?:\d+:)?([0-9.]+)", paragraphs.get(f"python{xy}-minimal", ""))
    return DebianImage(Image([base, apt, pip]), shadowed, alone, dist.name, dist.raw_name, dist.version, newer, xy, version.group(1) if version else xy)


def _diff_ids(archive: Path) -> list[str]:
    """The layer digests a docker archive's configuration records."""
    with tarfile.open(archive) as tar:
        manifest = json.load(tar.extractfile("manifest.json"))
        return json.load(tar.extractfile(manifest[0]["Config"]))["rootfs"]["diff_ids"]


def test_debian_copy_is_system_provided_with_its_owner_and_pip_copy_shadows_it(debian, tmp_path):
    archive = docker_archive(debian.image, tmp_path / "app.tar")
    run = audit(archive, cwd=tmp_path)
    assert run.code == 1, run.err
    environment = run.json["environment"]
    assert environment["python"] == f"{archive}:/usr/bin/python{debian.xy}"
    assert environment["version"] == debian.python_version
    sys_path = environment["sys_path"]
    assert sys_path[1:3] == [f"/usr/lib/python{debian.xy}", f"/usr/lib/python{debian.xy}/lib-dynload"]
    assert sys_path.index(f"/usr/local/lib/python{debian.xy}/dist-packages") < sys_path.index("/usr/lib/python3/dist-packages")
    digests = _diff_ids(archive)

    (shadow,) = findings(run, "RL301")
    assert shadow["package"] == debian.name
    assert shadow["location"] == {"path": str(archive), "line": None}
    assert f"{debian.distro_version} in /usr/lib/python3/dist-packages (OS package {debian.shadowed.name})" in shadow["message"]
    winner, distro = shadow["detail"]["copies"]
    assert (winner["version"], winner["path"], winner["installed_by"]) == (debian.pip_version, f"/usr/local/lib/python{debian.xy}/dist-packages", "pip")
    assert winner["layer"]["index"] == 3
    assert winner["layer"]["digest"] == digests[2]
    assert winner["layer"]["created_by"] == f"RUN pip install --break-system-packages {debian.raw_name}=={debian.pip_version}"
    assert (distro["version"], distro["metadata"]) == (debian.distro_version, str(debian.shadowed.metadata))
    assert distro["installed_by"] == f"dpkg package {debian.shadowed.name}"
    assert (distro["layer"]["index"], distro["layer"]["digest"]) == (2, digests[1])
    assert distro["layer"]["created_by"].startswith("RUN apt-get update && apt-get install -y")
    assert shadow["detail"]["image"]["path"] == winner["metadata"]

    system = {item["package"]: item for item in findings(run, "RL304")}
    assert debian.name not in system  # the copy that imports is pip's
    alone = next(item for item in system.values() if item["detail"]["metadata"] == str(debian.alone.metadata))
    assert alone["detail"]["os_package"] == debian.alone.name
    assert f"(OS package {debian.alone.name})" in alone["message"]
    assert alone["detail"]["image"] == {**alone["detail"]["image"], "image": str(archive), "path": str(debian.alone.metadata)}
    assert alone["detail"]["image"]["layer"]["index"] == 2

    rows = {row["name"]: row for row in run.json["packages"]}
    assert (rows[debian.name]["installed"], rows[debian.name]["installed_by"]) == (debian.pip_version, "pip")
    assert rows[alone["package"]]["installed_by"] == f"dpkg package {debian.alone.name}"
    assert rows[alone["package"]]["image"]["layer"]["digest"] == digests[1]
    marker = Path(f"/usr/lib/python{debian.xy}/EXTERNALLY-MANAGED")
    managed = findings(run, "RL305")
    assert [item["detail"]["image"]["path"] for item in managed] == ([str(marker)] if marker.is_file() else [])
    assert all(item["detail"]["image"]["layer"]["index"] == 1 for item in managed)


def _comparable(run) -> list[tuple[str, str | None, str]]:
    """Findings without the image's own name, to compare one image written in several formats."""
    shown = run.json["environment"]["python"].split(":/", 1)[0]
    return sorted((item["rule"], item["package"], item["message"].replace(shown, "IMAGE")) for item in run.json["findings"])


@pytest.mark.parametrize("form", ["oci-layout", "oci-archive", "oci-archive-uncompressed", "docker-blobs"])
def test_every_format_reads_the_same_image(debian, tmp_path, form):
    reference = audit(docker_archive(debian.image, tmp_path / "reference.tar"), cwd=tmp_path)
    if form == "oci-layout":
        image = oci_layout(debian.image, tmp_path / "layout")
    elif form == "docker-blobs":
        image = docker_archive(debian.image, tmp_path / "app.tar", blobs=True)
    else:
        image = oci_archive(debian.image, tmp_path / "app-oci.tar", compress=form == "oci-archive")
    run = audit(image, cwd=tmp_path)
    assert run.code == 1, run.err
    assert _comparable(run) == _comparable(reference)
    installed = {row["name"]: (row["installed"], row["installed_by"], row["image"]["path"]) for row in run.json["packages"]}
    assert installed == {row["name"]: (row["installed"], row["installed_by"], row["image"]["path"]) for row in reference.json["packages"]}


@pytest.mark.parametrize("form", ["oci-archive", "oci-layout", "docker-archive"])
def test_skopeo_reads_the_images_and_their_layer_digests_are_the_reported_ones(debian, tmp_path, form):
    needs("skopeo")
    if form == "oci-archive":
        image, transport = oci_archive(debian.image, tmp_path / "app.tar"), f"oci-archive:{tmp_path / 'app.tar'}"
    elif form == "oci-layout":
        image, transport = oci_layout(debian.image, tmp_path / "layout"), f"oci:{tmp_path / 'layout'}:test"
    else:
        image, transport = docker_archive(debian.image, tmp_path / "app.tar"), f"docker-archive:{tmp_path / 'app.tar'}"
    seen = skopeo_inspect(transport)
    run = audit(image, cwd=tmp_path)
    layers = {row["image"]["layer"]["index"]: row["image"]["layer"]["digest"] for row in run.json["packages"]}
    assert layers == {index: seen["Layers"][index - 1] for index in layers}
    assert set(layers) == {2, 3}


def test_an_unpacked_root_filesystem_is_read_like_its_image(debian, tmp_path):
    needs("umoci")
    layout = oci_layout(debian.image, tmp_path / "layout")
    done = subprocess.run(["umoci", "unpack", "--rootless", "--image", f"{layout}:test", str(tmp_path / "bundle")], capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    run = audit(tmp_path / "bundle" / "rootfs", cwd=tmp_path)
    image = audit(layout, cwd=tmp_path)
    assert _comparable(run) == _comparable(image)
    rows = {row["name"]: row for row in run.json["packages"]}
    assert {name: row["installed_by"] for name, row in rows.items()} == {row["name"]: row["installed_by"] for row in image.json["packages"]}
    assert all(row["image"]["layer"] is None for row in rows.values())  # a folder has no layers


def test_every_report_names_the_image_the_layer_and_the_path_inside(debian, tmp_path):
    """Text, Markdown, HTML and SARIF show where in the image a finding's file is; JSON has it in detail.image."""
    archive = docker_archive(debian.image, tmp_path / "app.tar")
    digest = _diff_ids(archive)[2]
    where = f"layer 3 sha256:{digest.split(':')[1][:12]} (RUN pip install --break-system-packages {debian.raw_name}=={debian.pip_version})"
    metadata = next(row["image"]["path"] for row in audit(archive, cwd=tmp_path).json["packages"] if row["name"] == debian.name)
    for form in ("text", "markdown", "html", "sarif"):
        run = run_cli("audit", "--image", str(archive), "--no-index", "--format", form, cwd=tmp_path)
        assert run.code == 1, run.err
        shown = run.out.replace("&#x27;", "'").replace("&quot;", '"')
        assert str(archive) in shown, form
        assert f"in the image: {where}: {metadata}" in shown, form
    log = json.loads(run.out)
    jsonschema.validate(log, json.loads(SARIF_SCHEMA.read_text(encoding="utf-8")))
    result = next(item for item in log["runs"][0]["results"] if item["ruleId"] == "RL301")
    assert result["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] == f"file://{archive}"
    assert result["properties"]["detail"]["image"]["layer"]["digest"] == digest


# -- (b) a virtualenv made by python -m venv, with real wheels ---------------------------------------------

VENV_WHEELS = (Dist("app", "1.0", requires=("dep>=2",)), Dist("dep", "2.0"), Dist("clash", "1.0", modules=("app",)))


@pytest.fixture(scope="module")
def venv_image(tmp_path_factory) -> Path:
    tmp = tmp_path_factory.mktemp("venv-image")
    for dist in VENV_WHEELS:
        build_wheel(dist, tmp / "wheels")
    venv = make_venv(tmp / "venv")
    pip_install(site_packages(venv), tmp / "wheels", "app", "dep", "clash")
    layer = Layer("RUN /bin/sh -c python -m venv /opt/venv && /opt/venv/bin/pip install app clash # buildkit").tree("/opt/venv", venv)
    env = {"PATH": "/opt/venv/bin:/usr/local/bin:/usr/bin:/bin", "VIRTUAL_ENV": "/opt/venv"}
    return oci_layout(Image([Layer("COPY app /app").file("/app/main.py", "print('hi')\n"), layer], env=env), tmp / "layout")


def test_a_virtualenv_image_is_audited_as_its_venv(venv_image, tmp_path):
    settings = dict(line.split(" = ", 1) for line in (venv_image.parent / "venv" / "pyvenv.cfg").read_text().splitlines() if " = " in line)
    run = audit(venv_image, cwd=tmp_path)
    assert run.code == 1, run.err
    environment = run.json["environment"]
    assert environment["python"] == f"{venv_image}:/opt/venv/bin/python"
    assert (environment["version"], environment["prefix"]) == (settings["version"], "/opt/venv")
    assert f"/opt/venv/lib/python{sys.version_info[0]}.{sys.version_info[1]}/site-packages" in environment["sys_path"]
    collisions = findings(run, "RL303")
    assert sorted(item["package"] for item in collisions) == ["app", "clash"]
    for item in collisions:
        assert item["detail"]["image"]["layer"]["index"] == 2
        assert item["detail"]["image"]["layer"]["created_by"] == "RUN python -m venv /opt/venv && /opt/venv/bin/pip install app clash"
        assert item["detail"]["image"]["path"].startswith("/opt/venv/lib/")
    assert findings(run, "RL401") == []
    assert findings(run, "RL402") == []
    assert {row["name"]: row["installed_by"] for row in run.json["packages"]} == {"app": "pip", "clash": "pip", "dep": "pip"}
    assert "its base Python" in run.err
    assert "is not in the image" in run.err


def test_the_index_rules_judge_what_the_image_has_installed(venv_image, tmp_path, index_server):
    for dist in (*VENV_WHEELS, Dist("dep", "3.0")):
        index_server.add_wheel(dist)
    run = run_cli("audit", "--image", str(venv_image), "--index-url", index_server.url, "--no-cache", "--format", "json", cwd=tmp_path)
    assert run.code == 1, run.err  # RL303 is an error
    (drift,) = findings(run, "RL501")
    assert (drift["package"], drift["detail"]["latest"]) == ("dep", "3.0")
    assert drift["location"] == {"path": str(venv_image), "line": None}
    assert drift["detail"]["image"]["path"] == "/opt/venv/lib/python3.11/site-packages/dep-2.0.dist-info".replace("3.11", f"{sys.version_info[0]}.{sys.version_info[1]}")
    assert {row["name"]: row["latest"] for row in run.json["packages"]} == {"app": "1.0", "clash": "1.0", "dep": "3.0"}


def test_graph_of_an_image(venv_image, tmp_path):
    run = run_cli("graph", "--image", str(venv_image), "--format", "json", cwd=tmp_path)
    assert run.code == 0, run.err
    assert {node["name"]: node["version"] for node in run.json["nodes"]} == {"app": "1.0", "dep": "2.0", "clash": "1.0"}
    assert [(edge["from"], edge["to"], edge["specifier"]) for edge in run.json["edges"]] == [("app", "dep", ">=2")]
    picked = run_cli("graph", "--image", str(venv_image), "--python", "/opt/venv", "--format", "json", cwd=tmp_path)
    assert picked.json == run.json
    wrong = run_cli("graph", "--image", str(venv_image), "--python", "/usr/bin/python3", cwd=tmp_path)
    assert wrong.code == 2
    assert "no such interpreter" in wrong.err
    assert "/opt/venv/bin/python" in wrong.err


def test_lock_from_env_of_an_image(venv_image, tmp_path, index_server):
    for dist in VENV_WHEELS:
        index_server.add_wheel(dist)
    run = run_cli("lock", "--from-env", "--image", str(venv_image), "-o", "lock.txt", "--index-url", index_server.url, "--no-cache", cwd=tmp_path)
    assert run.code == 0, run.err
    text = (tmp_path / "lock.txt").read_text()
    assert [line.split(" ")[0] for line in text.splitlines() if "==" in line and not line.startswith("#")] == ["app==1.0", "clash==1.0", "dep==2.0"]
    assert text.count("--hash=sha256:") == 3
    assert f"--image {venv_image}" in text
    refused = run_cli("lock", "--image", str(venv_image), cwd=tmp_path)
    assert refused.code == 2
    assert "--image needs --from-env" in refused.err


# -- (c) whiteouts -----------------------------------------------------------------------------------------

def _graph(image: Path, cwd: Path) -> set[str]:
    run = run_cli("graph", "--image", str(image), "--format", "json", cwd=cwd)
    assert run.code == 0, run.err
    return {node["name"] for node in run.json["nodes"]}


def test_whiteouts_delete_what_the_layers_belowinstalled(tmp_path):
    first = Layer("RUN pip install a b c").file("/opt/venv/pyvenv.cfg", VENV_CFG).tree(SITE, installed(tmp_path, "a", "b", "c"))
    second = Layer("RUN pip uninstall -y b && pip install d").whiteout(f"{SITE}/b-1.0.dist-info").whiteout(f"{SITE}/b")
    second.tree(SITE, installed(tmp_path, "d"))
    image = docker_archive(Image([first, second]), tmp_path / "two.tar")
    assert _graph(image, tmp_path) == {"a", "c", "d"}
    third = Layer("RUN rm -rf site-packages && pip install e").opaque(SITE).tree(SITE, installed(tmp_path, "e"))
    image = docker_archive(Image([first, second, third]), tmp_path / "three.tar")
    assert _graph(image, tmp_path) == {"e"}
    run = audit(image, cwd=tmp_path)
    assert {row["name"]: row["image"]["layer"]["index"] for row in run.json["packages"]} == {"e": 3}


def test_links_inside_the_image_are_followed_inside_it(tmp_path):
    """A merged-/usr image writes through /lib -> usr/lib; an absolute link is the image's, never this machine's."""
    base = Layer("ADD rootfs").link("/lib", "usr/lib").folder("/usr/lib").link("/opt/current", "/opt/venv")
    venv = Layer("RUN pip install a").file("/opt/venv/pyvenv.cfg", VENV_CFG).tree(SITE, installed(tmp_path, "a"))
    through = Layer("RUN pip install b", parents=False).tree("/opt/current/lib/python3.11/site-packages", installed(tmp_path, "b"))
    image = oci_archive(Image([base, venv, through]), tmp_path / "links.tar")
    run = audit(image, cwd=tmp_path)
    assert {row["name"]: row["image"]["path"] for row in run.json["packages"]} == {
        "a": f"{SITE}/a-1.0.dist-info",
        "b": f"{SITE}/b-1.0.dist-info",
    }


def test_a_link_loop_is_no_python_and_no_hang(tmp_path):
    layer = Layer("ADD loop").link("/usr/bin/python3", "python3.11").link("/usr/bin/python3.11", "/usr/bin/python3").link("/opt/venv", "/opt/venv")
    image = docker_archive(Image([layer]), tmp_path / "loop.tar")
    one_line_error(run_cli("audit", "--image", str(image), cwd=tmp_path), str(image), "no Python in this image")


def test_a_dockerfile_and_its_image_audited_together_in_every_format(debian, tmp_path):
    """The issue's case: the distro copy shadowed by pip's, the unpinned pip install and the tag without a digest,
    each at its Dockerfile line or image path, in every format."""
    archive = docker_archive(debian.image, tmp_path / "app.tar")
    (tmp_path / "Dockerfile").write_text(
        f"FROM debian:bookworm\nRUN apt-get update && apt-get install -y {debian.shadowed.name}\nRUN pip install --break-system-packages {debian.raw_name}\n",
        encoding="utf-8",
    )
    run = run_cli("audit", "Dockerfile", "--image", str(archive), "--no-index", "--format", "json", cwd=tmp_path)
    assert run.code == 1, run.err
    at = {(item["rule"], (item["location"] or {}).get("line")) for item in run.json["findings"] if (item["location"] or {}).get("path") == "Dockerfile"}
    assert {("RL605", 1), ("RL601", 3), ("RL603", 3)} <= at
    assert any(rule == "RL604" for rule, _ in at)
    (shadow,) = findings(run, "RL301")
    assert shadow["package"] == debian.name
    assert shadow["detail"]["image"]["path"].startswith(f"/usr/local/lib/python{debian.xy}/dist-packages/")
    for form in ("text", "markdown", "html", "sarif"):
        shown = run_cli("audit", "Dockerfile", "--image", str(archive), "--no-index", "--format", form, cwd=tmp_path)
        assert shown.code == 1, (form, shown.err)
        for rule in ("RL301", "RL601", "RL604", "RL605"):
            assert rule in shown.out, (form, rule)
        assert "Dockerfile" in shown.out, form
