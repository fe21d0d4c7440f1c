"""``reprolock audit Dockerfile``: the dockerfile source kind and RL601-RL606, on real Dockerfiles written in each test."""

from __future__ import annotations

import json
import re
import shutil
import textwrap

import jsonschema
import pytest

from conftest import ROOT, run_cli
from reportkit import SARIF_SCHEMA
from reprolock.sources.loader import load
from reprolock.sources.shellwords import ShellSyntaxError, commands, expand


def write(folder, name, text):
    path = folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")
    return path


def audit(folder, *paths, extra=()):
    return run_cli("audit", *paths, "--format", "json", "--files-only", "--no-index", *extra, cwd=folder)


def found(run, rule, path="Dockerfile"):
    """(line, package) of each finding of ``rule`` in ``path``, sorted."""
    places = [(item["location"]["line"], item["package"]) for item in run.json["findings"] if item["rule"] == rule and item["location"]["path"] == path]
    return sorted(places, key=lambda place: (place[0], place[1] or ""))


def messages(run, rule):
    return [item["message"] for item in run.json["findings"] if item["rule"] == rule]


def notes(folder, path="Dockerfile"):
    """The notes the Dockerfile's record carries (shown under its section of the text report)."""
    return load([path], cwd=folder)[0].notes


def dockerfile(folder, text):
    write(folder, "Dockerfile", text)
    return audit(folder, "Dockerfile")


# --- discovery and kinds -----------------------------------------------------------------------


def test_audit_discovers_dockerfiles_and_containerfiles_next_to_requirement_files(tmp_path):
    for name in ("Dockerfile", "Containerfile", "web.Dockerfile", "Dockerfile.dev"):
        write(tmp_path, name, "FROM python:3.12@sha256:" + "a" * 64 + "\n")
    write(tmp_path, "Dockerfile.dockerignore", "*.pyc\n")
    write(tmp_path, "requirements.txt", "six==1.16.0 --hash=sha256:" + "b" * 64 + "\n")
    run = audit(tmp_path)
    assert run.code == 0, run.err
    inputs = {item["path"]: item["kind"] for item in run.json["inputs"]}
    assert inputs == {
        "Containerfile": "dockerfile",
        "Dockerfile": "dockerfile",
        "Dockerfile.dev": "dockerfile",
        "web.Dockerfile": "dockerfile",
        "requirements.txt": "requirements",
    }


def test_a_directory_with_only_a_dockerfile_is_audited(tmp_path):
    write(tmp_path / "app", "Dockerfile", "FROM python:3.12\n")
    run = audit(tmp_path, "app")
    assert found(run, "RL605", "app/Dockerfile") == [(1, None)]


def test_kind_dockerfile_reads_any_file_name_as_a_dockerfile(tmp_path):
    write(tmp_path, "build.docker", "FROM python:3.12\nRUN pip install flask\n")
    run = audit(tmp_path, "build.docker", extra=("--kind", "dockerfile"))
    assert run.json["inputs"] == [{"path": "build.docker", "kind": "dockerfile"}]
    assert found(run, "RL601", "build.docker") == [(2, "flask")]


# --- RL605 image-base-not-pinned ---------------------------------------------------------------


def test_base_images_without_a_digest(tmp_path):
    run = dockerfile(
        tmp_path,
        """
        ARG PY=3.12
        ARG BASE
        FROM python:${PY} AS build
        FROM ubuntu AS tools
        FROM --platform=$BUILDPLATFORM ubuntu:latest
        FROM python:3.12-slim@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef
        FROM scratch
        FROM build
        FROM ${BASE}
        """,
    )
    assert found(run, "RL605") == [(3, None), (4, None), (5, None)]
    by_line = {item["location"]["line"]: item for item in run.json["findings"] if item["rule"] == "RL605"}
    assert by_line[3]["message"] == "FROM python:3.12 has no digest: the tag moves when the image is rebuilt; pin it with @sha256:..."
    assert by_line[4]["message"].startswith("FROM ubuntu has no tag (it means :latest) and no digest")
    assert by_line[5]["message"].startswith("FROM ubuntu:latest uses :latest and no digest")
    assert by_line[3]["severity"] == "warning"
    assert by_line[3]["detail"] == {"image": "python:3.12", "tag": "3.12", "digest": None}
    assert run.code == 0  # warnings only


# --- RL601 image-unpinned-install: arguments ---------------------------------------------------


def test_each_unpinned_argument_is_reported_at_its_own_line(tmp_path):
    run = dockerfile(
        tmp_path,
        """
        FROM python:3.12
        RUN apt-get update \\
            # comment lines inside a continued RUN are dropped, as Docker does
            && pip install --no-cache-dir \\
                "flask>=2" \\
                'requests' \\
                six==1.16.0 \\
            && python3 -m pip install click~=8.0 || true; pip3 install -q attrs==23.1.0 rich
        RUN uv pip install --system httpx==0.27.0 anyio
        RUN /opt/venv/bin/pip install 'Django[argon2]<5' && python -m pip install git+https://github.com/org/lib.git@main
        RUN pip install git+https://github.com/org/lib.git@0123456789abcdef0123456789abcdef01234567 ./local-package
        """,
    )
    assert found(run, "RL601") == [(5, "flask"), (6, "requests"), (8, "click"), (8, "rich"), (9, "anyio"), (10, None), (10, "django")]
    text = messages(run, "RL601")
    assert "pip install --no-cache-dir flask>=2 requests six==1.16.0: flask is not pinned to an exact version (>=2)" in text
    assert any(message.endswith("git+https://github.com/org/lib.git@main follows main, not a full commit id") for message in text)
    assert run.code == 1


def test_exact_pins_from_arg_and_env_values_are_pinned(tmp_path):
    run = dockerfile(
        tmp_path,
        """
        FROM python:3.12
        ARG FLASK_VERSION=2.3.3
        ENV PACKAGES="requests gunicorn==21.2.0" \\
            PIP_NO_CACHE_DIR=1
        RUN pip install flask==${FLASK_VERSION} $PACKAGES
        ARG UNSET
        RUN pip install "click==$UNSET"
        """,
    )
    assert found(run, "RL601") == [(5, "requests")]
    assert notes(tmp_path) == ("Dockerfile:7: click==${UNSET} not audited: ${UNSET} has no value in the Dockerfile",)


def test_exec_form_and_sh_c(tmp_path):
    run = dockerfile(
        tmp_path,
        """
        FROM python:3.12
        RUN ["pip", "install", "flask"]
        RUN ["/bin/sh", "-c", "pip install requests && pip install six==1.16.0"]
        RUN ["echo", "pip install not-a-command"]
        """,
    )
    assert found(run, "RL601") == [(2, "flask"), (3, "requests")]


def test_heredocs_are_read_as_shell_scripts_at_their_lines(tmp_path):
    run = dockerfile(
        tmp_path,
        """
        # syntax=docker/dockerfile:1
        FROM python:3.12
        RUN <<EOF
        set -eux
        pip install flask
        pip install \\
            requests
        EOF
        RUN <<-EOT bash
        \tpip install click
        \tEOT
        RUN python3 <<EOF
        import subprocess  # pip install not-shell: this body is Python
        EOF
        RUN cat <<EOF > /etc/motd
        pip install not-a-command-either
        EOF
        RUN pip install six
        """,
    )
    assert found(run, "RL601") == [(5, "flask"), (7, "requests"), (10, "click"), (18, "six")]


def test_shell_constructs_around_pip(tmp_path):
    run = dockerfile(
        tmp_path,
        """
        FROM python:3.12
        RUN if [ "$DEVEL" = "yes" ]; then pip install pytest; fi
        RUN set -x && (pip install rich) && { pip install attrs; } 2>&1 | tee /tmp/log
        RUN echo "pip install quoted-is-not-a-command" && echo 'pip install nor-this'
        RUN sudo -H pip3 install --user toml==0.10.2 > /dev/null
        RUN env PIP_INDEX_URL=x nice -n 5 pip install idna
        """,
    )
    assert found(run, "RL601") == [(2, "pytest"), (3, "attrs"), (3, "rich"), (6, "idna")]
    assert found(run, "RL603") == [(5, None)]
    assert messages(run, "RL603") == ["pip3 install --user toml==0.10.2: --user and sudo let pip write over the OS's Python packages; install into a virtual environment"]


# --- RL601: requirement files followed into the repository ------------------------------------


def test_a_copied_requirement_file_is_audited_in_place_with_the_chain(tmp_path):
    write(tmp_path, "requirements.txt", "flask\nrequests==2.31.0\n")
    run = dockerfile(
        tmp_path,
        """
        FROM python:3.12
        WORKDIR /app
        COPY requirements.txt .
        RUN pip install -r requirements.txt
        """,
    )
    assert run.json["inputs"] == [{"path": "Dockerfile", "kind": "dockerfile"}, {"path": "requirements.txt", "kind": "requirements"}]
    assert found(run, "RL101", "requirements.txt") == [(1, "flask")]  # its own findings, at its own lines
    assert found(run, "RL102", "requirements.txt") == [(2, "requests")]
    (rl601,) = [item for item in run.json["findings"] if item["rule"] == "RL601"]
    assert rl601["location"] == {"path": "Dockerfile", "line": 4}
    assert rl601["message"] == (
        "pip install -r requirements.txt installs requirements.txt, which is not a lock: flask (requirements.txt:1) not pinned exactly "
        "(chain: Dockerfile:4 (-r requirements.txt) -> COPY requirements.txt . (Dockerfile:3) -> requirements.txt)"
    )
    assert rl601["detail"]["unpinned"] == ["flask"]


def test_files_are_followed_through_folder_copies_cd_bind_mounts_and_includes(tmp_path):
    write(tmp_path, "requirements/base.txt", "attrs\n")
    write(tmp_path, "requirements/prod.txt", "-r base.txt\ngunicorn==21.2.0\n")
    write(tmp_path, "constraints.txt", "rich==13.7.0\n")
    write(tmp_path, "docker/Dockerfile", """
        FROM python:3.12
        COPY requirements /srv/requirements
        RUN cd /srv && pip install -r requirements/prod.txt -c /constraints.txt rich
        RUN --mount=type=bind,source=constraints.txt,target=/constraints.txt pip install -c /constraints.txt rich
        """)
    run = audit(tmp_path, "docker/Dockerfile")
    inputs = [(item["path"], item["kind"]) for item in run.json["inputs"]]
    assert inputs == [("docker/Dockerfile", "dockerfile"), ("requirements/prod.txt", "requirements"), ("requirements/base.txt", "requirements"), ("constraints.txt", "constraints")]
    assert found(run, "RL101", "requirements/base.txt") == [(1, "attrs")]
    assert found(run, "RL601", "docker/Dockerfile") == [(3, None), (3, "rich")]  # line 4's rich is pinned by its constraints file
    (chain,) = [item["detail"]["chain"] for item in run.json["findings"] if item["rule"] == "RL601" and item["package"] is None]
    assert chain == "docker/Dockerfile:3 (-r requirements/prod.txt) -> COPY requirements /srv/requirements (docker/Dockerfile:2) -> requirements/prod.txt"


def test_a_hashed_lock_is_neither_unpinned_nor_unhashed(tmp_path):
    write(tmp_path, "requirements.lock", "six==1.16.0 \\\n    --hash=sha256:" + "1" * 64 + "\n")
    run = dockerfile(
        tmp_path,
        """
        FROM python:3.12@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef
        COPY requirements.lock /tmp/
        RUN pip install --no-deps -r /tmp/requirements.lock
        COPY . /app
        RUN pip install --no-deps /app
        ARG WHEEL
        RUN pip install --no-deps /wheels/${WHEEL}
        """,
    )
    assert [item["rule"] for item in run.json["findings"]] == []
    assert run.code == 0


def test_a_file_that_is_not_copied_from_the_context_is_a_note(tmp_path):
    run = dockerfile(
        tmp_path,
        """
        FROM python:3.12
        COPY --from=builder /out/requirements.txt /app/requirements.txt
        RUN pip install -r /app/requirements.txt -r /missing.txt
        """,
    )
    assert found(run, "RL601") == []
    assert messages(run, "RL602") == ["pip install -r /app/requirements.txt -r /missing.txt: no --require-hashes (/app/requirements.txt, /missing.txt could not be read), so pip installs whatever files the index serves"]
    assert notes(tmp_path) == (
        "Dockerfile:3: -r /app/requirements.txt not followed: copied from builder by COPY --from=builder /out/requirements.txt /app/requirements.txt (Dockerfile:2)",
        "Dockerfile:3: -r /missing.txt not followed: no COPY, ADD or bind mount from the build context puts a file at /missing.txt",
    )


# --- RL602 image-unhashed-install ---------------------------------------------------------------


def test_only_the_final_image_needs_hashes(tmp_path):
    run = dockerfile(
        tmp_path,
        """
        FROM python:3.12 AS builder
        RUN pip wheel --wheel-dir /wheels six==1.16.0 && pip install six==1.16.0
        FROM python:3.12 AS base
        RUN pip install idna==3.6
        FROM base
        RUN pip install --require-hashes -r /dev/null
        ENV PIP_REQUIRE_HASHES=1
        RUN pip install certifi==2024.2.2
        RUN pip install --no-index --find-links /wheels six==1.16.0
        """,
    )
    assert found(run, "RL602") == [(4, None)]  # base is part of the final image; builder is not
    assert {item["severity"] for item in run.json["findings"] if item["rule"] == "RL602"} == {"warning"}


# --- RL603 image-system-pip ---------------------------------------------------------------------


def test_system_pip_in_all_its_spellings(tmp_path):
    run = dockerfile(
        tmp_path,
        """
        FROM debian:12
        ENV PIP_BREAK_SYSTEM_PACKAGES=1
        ARG PIP_USER=true
        ENV PIP_NO_CACHE_DIR=0
        RUN pip install --break-system-packages six==1.16.0
        RUN PIP_BREAK_SYSTEM_PACKAGES=1 pip install idna==3.6
        RUN export UV_BREAK_SYSTEM_PACKAGES=yes && uv pip install --system attrs==23.1.0
        RUN pip config set global.break-system-packages true
        RUN sudo python3 -m pip install certifi==2024.2.2
        ENV PIP_BREAK_SYSTEM_PACKAGES=0
        """,
    )
    assert found(run, "RL603") == [(2, None), (3, None), (5, None), (6, None), (7, None), (8, None), (9, None)]
    text = messages(run, "RL603")
    assert "ENV PIP_BREAK_SYSTEM_PACKAGES=1 lets every later pip install write over the OS's Python packages" in text
    assert "inline PIP_BREAK_SYSTEM_PACKAGES=1 lets every later pip install write over the OS's Python packages" in text
    assert "pip config PIP_BREAK_SYSTEM_PACKAGES=true lets every later pip install write over the OS's Python packages" in text


# --- RL604 image-distro-and-pip -----------------------------------------------------------------


def test_an_os_package_and_a_pip_install_of_one_distribution(tmp_path):
    write(tmp_path, "requirements.txt", "requests==2.31.0\n")
    run = dockerfile(
        tmp_path,
        """
        FROM debian:12 AS base
        RUN apt-get update && apt-get install -y --no-install-recommends python3-jinja2/bookworm python3-yaml=6.0-3 python3-dev python3-venv ./local.deb
        FROM base AS app
        RUN pip install --break-system-packages Jinja2==3.1.2 PyYAML==6.0.1 \\
            && apk add --no-cache --virtual .deps py3-requests \\
            && dnf -y install python3-dateutil
        COPY requirements.txt /
        RUN pip install -r /requirements.txt python-dateutil==2.9.0
        RUN python3 -m venv /opt/venv && /opt/venv/bin/pip install Jinja2==3.1.2
        FROM debian:12 AS sibling
        RUN pip install PyYAML==6.0.1
        """,
    )
    assert found(run, "RL604") == [(4, "jinja2"), (4, "pyyaml"), (8, "python-dateutil"), (8, "requests")]
    jinja = next(item for item in run.json["findings"] if item["rule"] == "RL604" and item["package"] == "jinja2")
    assert jinja["message"] == (
        "Jinja2 is installed by pip (pip install --break-system-packages Jinja2==3.1.2 PyYAML==6.0.1) over the OS package "
        "python3-jinja2 (Dockerfile:2): two copies of one distribution, the OS package's files overwritten"
    )
    assert jinja["detail"] == {"os_package": "python3-jinja2", "manager": "apt"}
    through = next(item for item in run.json["findings"] if item["rule"] == "RL604" and item["package"] == "requests")
    assert "requests (requirements.txt:1, through -r /requirements.txt)" in through["message"]


# --- RL606 image-unpinned-tooling ---------------------------------------------------------------


def test_unpinned_pip_setuptools_and_wheel(tmp_path):
    run = dockerfile(
        tmp_path,
        """
        FROM python:3.12
        RUN pip install --upgrade pip
        RUN python -m pip install -U pip==24.0 setuptools wheel
        RUN pip install --upgrade "setuptools>=70"
        """,
    )
    assert found(run, "RL606") == [(2, "pip"), (3, "setuptools"), (3, "wheel"), (4, "setuptools")]
    assert found(run, "RL601") == []  # tooling is RL606's
    assert found(run, "RL602") == [(3, None)]  # a bare unpinned upgrade is RL606 alone
    assert messages(run, "RL606")[0] == "pip install --upgrade pip: pip is not pinned, so each build gets the newest pip"


# --- hygiene rules in a Dockerfile --------------------------------------------------------------


def test_credentials_and_trusted_hosts_in_pip_commands(tmp_path):
    run = dockerfile(
        tmp_path,
        """
        FROM python:3.12
        ENV PIP_EXTRA_INDEX_URL=https://deploy:s3cr3t@pkgs.example.com/simple
        RUN pip install --index-url https://deploy:s3cr3t@pkgs.example.com/simple --trusted-host pkgs.example.com six==1.16.0
        """,
    )
    assert found(run, "RL108") == [(2, None), (3, None)]
    assert found(run, "RL110") == [(3, None)]
    assert "s3cr3t" not in run.out


# --- bad input -----------------------------------------------------------------------------------


def test_a_file_without_from_is_exit_3_in_one_line(tmp_path):
    write(tmp_path, "Dockerfile", "# just a comment\nRUN pip install flask\n")
    run = run_cli("audit", "Dockerfile", "--files-only", "--no-index", cwd=tmp_path)
    assert run.code == 3
    assert run.err == "reprolock: error: Dockerfile:2: RUN before the first FROM (a Dockerfile starts with FROM; ARG lines may come before it)\n"
    write(tmp_path, "Dockerfile", "# nothing here\n")
    empty = run_cli("audit", "Dockerfile", "--files-only", "--no-index", cwd=tmp_path)
    assert empty.code == 3
    assert "Dockerfile: no FROM instruction: not a Dockerfile" in empty.err
    assert len(empty.err.strip().splitlines()) == 1


def test_a_binary_dockerfile_is_exit_3(tmp_path):
    (tmp_path / "Dockerfile").write_bytes(b"FROM x\x00\x01")
    run = run_cli("audit", "Dockerfile", "--files-only", "--no-index", cwd=tmp_path)
    assert run.code == 3
    assert "Dockerfile: not a text file" in run.err


def test_lines_that_cannot_be_read_are_invalid_and_the_rest_is_audited(tmp_path):
    run = dockerfile(
        tmp_path,
        """
        FROM python:3.12
        FLY me to the moon
        RUN pip install "flask
        RUN pip install requests
        RUN <<EOF
        pip install never-closed
        """,
    )
    assert found(run, "RL111") == [(2, None), (3, None), (5, None)]
    assert found(run, "RL601") == [(4, "requests"), (6, "never-closed")]
    text = messages(run, "RL111")
    assert "cannot parse 'FLY me to the moon': unknown instruction FLY" in text
    assert any('unterminated " quote' in message for message in text)


# --- reports --------------------------------------------------------------------------------------


def test_sarif_of_a_dockerfile_finding_validates(tmp_path):
    write(tmp_path, "Dockerfile", "FROM python:3.12\nRUN pip install flask\n")
    run = run_cli("audit", "Dockerfile", "--files-only", "--no-index", "--format", "sarif", cwd=tmp_path)
    log = json.loads(run.out)
    jsonschema.validate(log, json.loads(SARIF_SCHEMA.read_text(encoding="utf-8")))
    results = {result["ruleId"]: result for result in log["runs"][0]["results"]}
    assert set(results) == {"RL601", "RL602", "RL605"}
    location = results["RL601"]["locations"][0]["physicalLocation"]
    assert location == {"artifactLocation": {"uri": "Dockerfile", "uriBaseId": "%SRCROOT%"}, "region": {"startLine": 2}}
    rules = log["runs"][0]["tool"]["driver"]["rules"]
    assert rules[results["RL601"]["ruleIndex"]]["name"] == "image-unpinned-install"


@pytest.mark.parametrize("fmt", ["markdown", "html", "text"])
def test_other_formats_name_the_dockerfile_rules(tmp_path, fmt):
    write(tmp_path, "Dockerfile", "FROM python:3.12\nRUN pip install --upgrade pip\n")
    run = run_cli("audit", "Dockerfile", "--files-only", "--no-index", "--format", fmt, cwd=tmp_path)
    assert run.code == 0, run.err
    assert "image-unpinned-tooling" in run.out
    assert "image-base-not-pinned" in run.out


# --- Dockerfiles of public projects (fixtures/dockerfiles, provenance on their first line) ---------

DOCKERFILES = ROOT / "fixtures" / "dockerfiles"


def rules_at(run, path):
    return sorted(
        ((item["rule"], item["location"]["line"], item["package"] or "") for item in run.json["findings"] if item["location"]["path"] == path),
    )


@pytest.mark.parametrize("name", sorted(path.name for path in DOCKERFILES.glob("*.Dockerfile")))
def test_every_fixture_keeps_its_provenance_line(name):
    first = (DOCKERFILES / name).read_text(encoding="utf-8").split("\n", 1)[0]
    assert first.startswith("# Provenance: github.com/")
    assert re.search(r" at commit [0-9a-f]{40} \((Apache-2\.0|MIT) licence\)", first)


def test_warehouse_multi_stage_venv_and_a_hashed_lock_copied_as_a_folder(tmp_path):
    """pypi/warehouse: three stages, pip upgraded unpinned into a venv, requirements copied as a folder (the real deploy.txt is hashed)."""
    shutil.copy(DOCKERFILES / "pypi__warehouse.Dockerfile", tmp_path / "Dockerfile")
    (tmp_path / "requirements").mkdir()
    shutil.copy(ROOT / "fixtures" / "corpus" / "pypi__warehouse" / "requirements" / "deploy.txt", tmp_path / "requirements")
    run = audit(tmp_path)
    assert [item["path"] for item in run.json["inputs"]] == ["Dockerfile", "requirements/deploy.txt"]
    assert rules_at(run, "Dockerfile") == [
        ("RL605", 6, ""),
        ("RL605", 48, ""),
        ("RL605", 116, ""),
        ("RL606", 83, "pip"),
        ("RL606", 83, "setuptools"),
        ("RL606", 83, "wheel"),
    ]  # no RL602: the final stage installs nothing, it copies the build stage's venv
    (source,) = [item for item in load(["Dockerfile"], cwd=tmp_path) if item.dockerfile is not None]
    assert source.dockerfile is not None
    install = next(item for item in source.dockerfile.pip_installs if item.origin.line == 103)
    assert install.into == "/opt/warehouse"  # python3 -m venv /opt/warehouse, then ENV PATH=/opt/warehouse/bin:...
    in_image = "/tmp/requirements"  # noqa: S108 - a folder inside the image the Dockerfile builds, not a temporary file here
    assert [(ref.written, ref.source, ref.via) for ref in install.files] == [
        (f"{in_image}/deploy.txt", "requirements/deploy.txt", f"COPY requirements {in_image} (Dockerfile:88)"),
        (f"{in_image}/main.txt", None, None),
    ]
    assert install.flags == ("--no-cache-dir", "--disable-pip-version-check", "--no-deps")
    copies = [(copy.origin.line, copy.sources, copy.dest, copy.directory, copy.from_, copy.stage) for copy in source.dockerfile.copies]
    assert copies[0] == (21, ("package.json", "package-lock.json", ".babelrc"), "/opt/warehouse/src", True, None, 0)
    assert copies[4] == (88, ("requirements",), in_image, False, None, 1)
    assert copies[-2:] == [(152, ("/opt/warehouse/",), "/opt/warehouse", True, "build", 2), (153, (".",), "/opt/warehouse/src", True, None, 2)]
    assert [(stage.alias, stage.tag, stage.parent) for stage in source.dockerfile.stages] == [("static", "14.15.5", None), ("build", "3.9.10-slim-buster", None), (None, "3.9.10-slim-buster", None)]


def test_netbox_docker_comments_inside_a_continued_pip_install():
    run = run_cli("audit", "fixtures/dockerfiles/netbox-community__netbox-docker.Dockerfile", "--format", "json")
    assert rules_at(run, "fixtures/dockerfiles/netbox-community__netbox-docker.Dockerfile") == [
        ("RL601", 21, "gunicorn"),
        ("RL601", 23, "napalm"),
        ("RL601", 25, "ruamel-yaml"),
        ("RL601", 32, "django-rq"),
        ("RL602", 19, ""),
        ("RL602", 42, ""),
        ("RL605", 2, ""),
    ]
    # -r requirements.txt reads a file the image downloaded with wget: nothing in the repository to audit
    (note,) = load(["fixtures/dockerfiles/netbox-community__netbox-docker.Dockerfile"], cwd=ROOT)[0].notes
    assert note.endswith(":42: -r requirements.txt not followed: no COPY, ADD or bind mount from the build context puts a file at /opt/netbox/requirements.txt")


def test_mitmproxy_wheel_builder_stage():
    run = run_cli("audit", "fixtures/dockerfiles/mitmproxy__mitmproxy.Dockerfile", "--format", "json")
    assert rules_at(run, "fixtures/dockerfiles/mitmproxy__mitmproxy.Dockerfile") == [
        ("RL601", 15, "mitmproxy"),
        ("RL605", 2, ""),
        ("RL605", 7, ""),
        ("RL606", 5, "wheel"),
    ]  # the final stage installs with --no-index from the builder's wheels: no RL602


def test_certbot_base_image_from_a_build_argument_and_build_deps_that_are_not_distributions():
    run = run_cli("audit", "fixtures/dockerfiles/certbot__certbot.Dockerfile", "--format", "json")
    assert rules_at(run, "fixtures/dockerfiles/certbot__certbot.Dockerfile") == [("RL605", 4, "")]
    (source,) = load(["fixtures/dockerfiles/certbot__certbot.Dockerfile"], cwd=ROOT)
    assert source.dockerfile is not None
    (stage,) = source.dockerfile.stages
    assert (stage.image, stage.tag, stage.unresolved) == ("${TARGET_ARCH}/python:3.10-alpine3.16", "3.10-alpine3.16", ("${TARGET_ARCH}",))
    assert "python3-dev" in {package.name for package in source.dockerfile.os_packages}  # read, and not taken for a distribution (no RL604)


def test_the_pre_commit_audit_hook_runs_when_a_dockerfile_changes():
    import yaml  # noqa: PLC0415 - test-only dependency, as in test_docs

    hooks = {hook["id"]: hook for hook in yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text(encoding="utf-8"))}
    pattern = re.compile(hooks["reprolock-audit"]["files"])
    for changed in ("Dockerfile", "docker/Containerfile", "web.Dockerfile", "Dockerfile.dev", "requirements.txt"):
        assert pattern.search(changed), changed
    assert not pattern.search("docs/dockerfiles.md")


def test_the_example_dockerfile_shows_the_classic_traps():
    run = run_cli("audit", "examples/webapp", "--format", "json")
    assert rules_at(run, "examples/webapp/Dockerfile") == [
        ("RL601", 9, "flask"),
        ("RL601", 10, "jinja2"),
        ("RL601", 14, ""),
        ("RL602", 9, ""),
        ("RL602", 10, ""),
        ("RL602", 14, ""),
        ("RL604", 10, "jinja2"),
        ("RL604", 14, "jinja2"),
        ("RL605", 2, ""),
        ("RL606", 8, "pip"),
    ]


def test_files_the_image_gets_elsewhere_and_quoted_arg_values(tmp_path):
    write(tmp_path, "requirements.txt", "flask\n")
    write(tmp_path, "Dockerfile", 'FROM python:3.12\nARG EXTRAS="rich attrs" PIN=six==1.16.0\nCOPY <<EOF /a.txt\nflask\nEOF\n'
          "ADD https://example.com/requirements.txt /b.txt\nRUN pip install -r /a.txt -r /b.txt $EXTRAS $PIN \\\n    idna")  # no final newline
    run = audit(tmp_path, "Dockerfile")
    assert found(run, "RL601") == [(7, "attrs"), (7, "rich"), (8, "idna")]
    assert notes(tmp_path) == (
        "Dockerfile:7: -r /a.txt not followed: written by a here-document (Dockerfile:3)",
        "Dockerfile:7: -r /b.txt not followed: downloaded by ADD https://example.com/requirements.txt /b.txt (Dockerfile:6)",
    )


def test_shell_words_quotes_expansions_redirections_and_nested_heredocs():
    script = textwrap.dedent(
        """\
        A=1 pip install "x==${V:-2.0}" 'y z' $'q' `date` $(echo $((1+2))) 2>&1 >/dev/null ${UNSET} \\
          --flag=v # a comment
        cat <<END > out.txt && echo after
        pip install inside-a-heredoc-body
        END
        echo "unterminated
        """
    )
    with pytest.raises(ShellSyntaxError):
        commands(script)
    found_commands = commands(script.rsplit("echo", 1)[0])
    values = {"V": None, "UNSET": None}
    texts = [[field.text for word in command for field in expand(word, values.get)] for command in found_commands]
    assert texts == [
        ["A=1", "pip", "install", "x==2.0", "y z", "q", "`date`", "$(echo $((1+2)))", "${UNSET}", "--flag=v"],
        ["cat"],
        ["echo", "after"],
    ]
    first = [field for word in found_commands[0] for field in expand(word, {"V": "3.1"}.get)]
    assert first[3].text == "x==3.1"
    assert first[8].unresolved == ("${UNSET}",)
    assert first[9].offset == script.index("--flag=v")
