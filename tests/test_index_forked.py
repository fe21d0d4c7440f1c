"""A cold batch of pages shared with a forked copy of the process: same answers, every job once, errors handed back.

Forking is only done in a process with no other thread, and the test runner has
some (the index server), so each case runs in a fresh interpreter started here.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from typing import Any

import pytest

from conftest import run_cli
from envfactory import make_venv, pip_install, site_packages
from reprolock.index.cache import fetched_recently
from reprolock.index.forked import can_fork
from wheelfactory import Dist, build_wheel

pytestmark = pytest.mark.skipif(sys.platform != "linux", reason="reprolock forks only on Linux")


def python(code: str, *args: str, env: dict[str, str] | None = None) -> Any:
    environ = {**os.environ, **(env or {})}
    done = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code), *args], capture_output=True, text=True, timeout=120, check=False, env=environ
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def test_no_fork_while_other_threads_run(index_server):
    assert index_server is not None  # its thread is running in this process
    assert not can_fork()


def test_every_job_is_claimed_exactly_once_by_the_parent_and_the_copy():
    found = python("""
        import json, threading, time
        from reprolock.index.forked import Forked, JobQueue, can_fork

        assert can_fork()
        queue = JobQueue(3000)

        def drain():
            taken = []
            while (number := queue.claim()) is not None:
                taken.append(number)
                time.sleep(0.0005)
            return taken

        def threads():
            found, workers = [], []
            for _ in range(4):
                worker = threading.Thread(target=lambda: found.extend(drain()))
                worker.start()
                workers.append(worker)
            for worker in workers:
                worker.join()
            return found

        forked = Forked.start(lambda report: {"taken": threads()})
        mine = threads()
        print(json.dumps({"mine": mine, "theirs": list(forked.messages())[-1]["taken"]}))
    """)
    mine, theirs = found["mine"], found["theirs"]
    assert mine  # both processes took work
    assert theirs
    assert sorted(mine + theirs) == list(range(3000))


def test_an_error_in_the_copy_is_raised_in_the_parent_and_a_crash_gives_no_answer():
    found = python("""
        import json, os
        from reprolock.errors import IndexUnreachableError, InputError
        from reprolock.index.forked import Forked

        def fail(report):
            report({"before": 1})
            raise InputError("bad thing in x.txt:3", hint="fix it")

        seen = []
        try:
            for message in Forked.start(fail).messages():
                seen.append(message)
            raised = None
        except InputError as exc:
            raised = [type(exc).__name__, exc.message, exc.hint, exc.exit_code]

        def crash(report):
            report({"part": 1})
            os._exit(3)

        crashed = list(Forked.start(crash).messages())
        print(json.dumps({"raised": raised, "seen": seen, "crashed": crashed, "fine": list(Forked.start(lambda report: {"a": [1]}).messages())}))
    """)
    assert found["raised"] == ["InputError", "bad thing in x.txt:3", "fix it", 3]
    assert found["seen"] == [{"before": 1}]  # what it sent before it failed arrived first
    assert found["crashed"] == [{"part": 1}]  # a crash ends its messages: the caller does the rest
    assert found["fine"] == [{"a": [1]}]


def test_messages_arrive_while_the_copy_still_works_and_large_ones_whole(tmp_path):
    found = python("""
        import json, os, time
        from reprolock.index.forked import Forked

        def work(report):
            report({"first": "x" * 3_000_000})  # larger than any pipe: written whole, read whole
            while not os.path.exists(os.environ["GO"]):  # waits until the parent has read the first message
                time.sleep(0.01)
            report({"second": 2})
            return {"last": 3}

        forked = Forked.start(work)
        sizes = []
        for message in forked.messages():
            if "first" in message:
                sizes.append(len(message["first"]))
                open(os.environ["GO"], "w").close()
            else:
                sizes.append(message)
        print(json.dumps(sizes))
    """, env={"GO": str(tmp_path / "go")})
    assert found == [3_000_000, {"second": 2}, {"last": 3}]


SUMMARIES = """
    import json, sys
    from reprolock.index.client import HttpClient
    from reprolock.index.config import split_credentials
    from reprolock.index.finder import IndexFinder
    from reprolock.index.models import IndexTarget
    from reprolock.index.summary import facts_to_data

    url, processes, names = sys.argv[1], int(sys.argv[2]), sys.argv[3].split(",")
    finder = IndexFinder([split_credentials(url)], processes=processes, http=HttpClient(timeout=10.0, retries=1, backoff=0.01))
    try:
        found = finder.summaries(names, IndexTarget("3.11.7"))
    except Exception as exc:
        print(json.dumps({"error": [type(exc).__name__, str(exc), getattr(exc, "exit_code", None)]}))
        sys.exit(0)
    print(json.dumps({
        "facts": {name: facts_to_data(facts) if facts else None for name, facts in found.items()},
        "unknown": sorted(finder.unknown),
        "forked": finder.forked_jobs,
        "requests": finder.requests,
    }))
"""


@pytest.fixture
def many(index_server):
    names = [f"proj{number:02d}" for number in range(12)]
    for number, name in enumerate(names):
        for minor in range(number % 4 + 1):
            index_server.add_wheel(Dist(name, f"1.{minor}"), yanked=(minor == 1 and number % 3 == 0))
    for name in names:  # slow pages: the parent's threads cannot take every job before the copy starts
        index_server.fault(name, "slow", delay=0.3)
    return index_server, names


def test_a_forked_copy_summarises_part_of_the_batch_with_the_same_answers(many):
    server, names = many
    wanted = ",".join([*names, "missing-project"])
    shared = python(SUMMARIES, server.url, "2", wanted)
    alone = python(SUMMARIES, server.url, "1", wanted)
    assert 0 < shared["forked"] < len(names) + 1
    assert alone["forked"] == 0
    assert shared["facts"] == alone["facts"]
    assert shared["facts"]["missing-project"] is None
    assert shared["facts"]["proj03"]["releases"][0][0] == "1.3"
    assert shared["requests"] == alone["requests"] == len(names) + 1


def test_an_unreachable_index_in_the_copy_ends_the_run_with_exit_4(many):
    server, names = many
    for name in names:
        server.fault(name, "500")
    found = python(SUMMARIES, server.url, "2", ",".join(names))
    kind, message, code = found["error"]
    assert kind == "IndexUnreachableError"
    assert code == 4
    assert "500" in message


def test_the_cli_forks_and_reports_as_without_forking(many, tmp_path):
    server, names = many
    requirements = tmp_path / "requirements.txt"
    requirements.write_text("".join(f"{name}==1.0\n" for name in names))
    command = [sys.executable, "-m", "reprolock", "audit", str(requirements), "--index-url", server.url, "--no-cache", "--format", "json"]
    env = {"PIP_CONFIG_FILE": "/dev/null", "PATH": "/usr/bin:/bin", "NO_COLOR": "1"}
    forked = subprocess.run(command, capture_output=True, text=True, timeout=120, check=False, env=env, cwd=tmp_path)
    assert forked.returncode in {0, 1}, forked.stderr
    alone = run_cli("audit", str(requirements), "--index-url", server.url, "--no-cache", "--format", "json", cwd=tmp_path)
    assert alone.code == forked.returncode
    ours, theirs = json.loads(forked.stdout), alone.json
    drift = sorted((item["package"], item["detail"]["latest"]) for item in ours["findings"] if item["rule"] == "RL501")
    assert drift == sorted((item["package"], item["detail"]["latest"]) for item in theirs["findings"] if item["rule"] == "RL501")
    assert ("proj03", "1.3") in drift
    assert "proj09" not in {name for name, _ in drift}  # its only newer release, 1.1, is yanked


def test_a_standby_copy_gets_ready_then_does_its_share_leaves_when_cancelled_or_fails_cleanly():
    found = python("""
        import json, os, time
        from reprolock.index.forked import Standby, can_fork

        def prepare():
            return {"ready": os.getpid()}

        def serve(prepared, work, queue, report, helper):
            def drain(report):
                taken = []
                while (number := queue.claim()) is not None:
                    taken.append(number)
                    time.sleep(0.001)
                report({"helper" if report is not first else "standby": taken})

            first = report
            helped = helper.start(drain)
            drain(report)
            return {"prepared": prepared["ready"], "work": work, "helped": helped, "again": helper.start(drain)}

        standby = Standby.begin(prepare, serve)
        standby.queue.fill(400)
        standby.send({"names": ["a", "b"]})
        mine = []
        while (number := standby.queue.claim()) is not None:
            mine.append(number)
            time.sleep(0.001)
        messages = list(standby.messages())
        idle = Standby.begin(prepare, serve)
        waiting = idle.waiting
        idle.cancel()
        time.sleep(0.2)
        broken = Standby.begin(lambda: os._exit(5), serve)
        time.sleep(0.2)
        broken.queue.fill(3)
        sent = broken.send({"names": []})
        try:
            gone = os.waitpid(idle._pid, os.WNOHANG)[0] != 0
        except ChildProcessError:  # cancel() reaped it already: it had ended
            gone = True
        print(json.dumps({"me": os.getpid(), "mine": mine, "waiting": waiting, "after": idle.waiting,
                          "gone": gone, "sent": sent, "broken": list(broken.messages()), "messages": messages}))
    """)
    messages = found["messages"]
    answer = next(message for message in messages if "prepared" in message)  # the helper's pipe may deliver after it
    assert answer["prepared"] != found["me"]  # prepared in the copy
    assert answer["work"] == {"names": ["a", "b"]}
    assert answer["helped"] is True  # the standby forked a helper, once
    assert answer["again"] is False
    taken = {key: value for message in messages if message is not answer for key, value in message.items()}
    assert set(taken) == {"standby", "helper"}  # the helper's message came straight to the parent
    assert taken["standby"]
    assert found["mine"]
    assert sorted(taken["standby"] + taken["helper"] + found["mine"]) == list(range(400))
    assert found["waiting"] is True
    assert found["after"] is False
    assert found["gone"] is True  # a cancelled copy ends on its own
    assert found["sent"] is False  # a copy that died getting ready takes no work ...
    assert found["broken"] == []  # ... and gives no answer: the parent does the jobs


@pytest.mark.parametrize("guess", ["right", "wrong"])
def test_an_environment_audit_shares_its_pages_with_a_standby_copy(many, tmp_path, guess):
    server, names = many
    wheels = tmp_path / "wheels"
    for name in names:
        build_wheel(Dist(name, "1.0"), wheels)
    venv = make_venv(tmp_path / "venv")
    pip_install(site_packages(venv), wheels, *names)
    if guess == "wrong":  # the virtualenv's files tell another Python version than its interpreter answers
        config = venv / "pyvenv.cfg"
        config.write_text(config.read_text().replace("version = 3.", "version = 2."))
    command = [sys.executable, "-m", "reprolock", "audit", "--python", str(venv), "--index-url", server.url, "--no-cache", "--format", "json"]
    env = {"PIP_CONFIG_FILE": "/dev/null", "PATH": "/usr/bin:/bin", "NO_COLOR": "1"}
    forked = subprocess.run(command, capture_output=True, text=True, timeout=120, check=False, env=env, cwd=tmp_path)
    assert forked.returncode in {0, 1}, forked.stderr
    if guess == "right":  # the pages were handed over before the interpreter answered, and each fetched once
        assert server.hits("/simple/proj") == len(names)
    else:  # asked for on the guess (those copies stopped when the interpreter answered), then again
        assert server.hits("/simple/proj") > len(names)
    alone = run_cli("audit", "--python", str(venv), "--index-url", server.url, "--no-cache", "--format", "json", cwd=tmp_path)
    assert alone.code == forked.returncode
    ours, theirs = json.loads(forked.stdout), alone.json
    drift = sorted((item["package"], item["detail"]["latest"]) for item in ours["findings"] if item["rule"] == "RL501")
    assert drift == sorted((item["package"], item["detail"]["latest"]) for item in theirs["findings"] if item["rule"] == "RL501")
    assert ("proj03", "1.3") in drift
    assert ours["packages"] == theirs["packages"]
    assert server.hits("/simple/proj") >= 2 * len(names)  # both runs asked for every page


def test_a_run_that_fetched_pages_marks_the_cache_so_the_next_forks_no_standby(many, tmp_path):
    server, names = many
    cache = tmp_path / "cache"
    requirements = tmp_path / "requirements.txt"
    requirements.write_text("".join(f"{name}==1.0\n" for name in names[:2]))
    assert not fetched_recently(cache)
    done = run_cli("audit", str(requirements), "--index-url", server.url, "--cache-dir", str(cache), cwd=tmp_path)
    assert done.code in {0, 1}, done.err
    assert fetched_recently(cache)
    assert not fetched_recently(cache, freshness=0.0)
    again = run_cli("audit", str(requirements), "--index-url", server.url, "--cache-dir", str(cache), "--offline", cwd=tmp_path)
    assert again.out == done.out  # answered from the cache
