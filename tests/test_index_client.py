"""The index client against a real HTTP index on 127.0.0.1 (tests/indexserver.py)."""

from __future__ import annotations

import email.parser

import pytest

from indexserver import _huge_page
from reprolock.errors import IndexUnreachableError
from reprolock.index.cache import Cache
from reprolock.index.config import split_credentials
from reprolock.index.finder import IndexFinder, NotCachedError
from reprolock.index.options import IndexOptions
from wheelfactory import Dist


def finder_for(server, cache=None, *, url=None, offline=False, timeout=5.0, retries=2, **options):
    settings = IndexOptions(indexes=(split_credentials(url or server.url),), offline=offline, timeout=timeout, retries=retries)
    return IndexFinder(settings, cache=cache, **options)


def finder_over(*urls, **settings):
    return IndexFinder(IndexOptions(indexes=tuple(split_credentials(url) for url in urls), **settings))


def metadata_name(data: bytes) -> tuple[str, str]:
    message = email.parser.BytesParser().parsebytes(data)
    return message["Name"], message["Version"]


def test_json_page_has_versions_yanks_requires_python_and_upload_time(index_server):
    index_server.load_fixture("requests")
    page = finder_for(index_server).project("requests")
    assert page is not None
    assert page.name == "requests"
    yanked = [item for item in page.files if item.yanked]
    assert [(item.version, item.yanked_reason) for item in yanked] == [("2.32.0", "Yanked due to conflicts with CVE-2024-35195 mitigation")]
    newest = next(item for item in page.files if item.filename == "requests-2.32.3-py3-none-any.whl")
    assert newest.requires_python == ">=3.8"
    assert newest.upload_time == "2024-05-29T15:37:47.000000Z"
    assert newest.url == f"{index_server.root}/files/requests-2.32.3-py3-none-any.whl"
    assert newest.sha256 is not None
    assert {item.packagetype for item in page.files} == {"bdist_wheel", "sdist"}
    assert index_server.requests[0][1]["accept"].startswith("application/vnd.pypi.simple.v1+json")


def test_html_fallback_reads_the_same_facts(index_server):
    index_server.load_fixture("requests")
    index_server.load_fixture("oldlib")
    index_server.html_only = True
    finder = finder_for(index_server)
    page = finder.project("requests")
    assert page is not None
    assert sorted({item.version for item in page.files}) == ["2.27.1", "2.28.0", "2.31.0", "2.32.0", "2.32.3", "3.0.0b1"]
    assert [item.yanked_reason for item in page.files if item.yanked] == ["Yanked due to conflicts with CVE-2024-35195 mitigation"]
    assert next(item for item in page.files if item.version == "2.28.0").requires_python == ">=3.7, <4"
    old = finder.project("oldlib")
    assert old is not None
    assert (old.status, old.status_reason) == ("archived", "no longer maintained")


def test_project_status_from_json(index_server):
    index_server.load_fixture("oldlib")
    page = finder_for(index_server).project("oldlib")
    assert page is not None
    assert page.status == "archived"


def test_missing_project_is_none(index_server):
    assert finder_for(index_server).project("nothing-here") is None


@pytest.mark.parametrize("advertise", [True, False])
def test_core_metadata_from_pep658_file_advertised_or_not(index_server, advertise):
    index_server.add_wheel(Dist("alpha", "1.0", requires=("beta>=2",)))
    index_server.advertise_metadata = advertise
    finder = finder_for(index_server)
    page = finder.project("alpha")
    assert page is not None
    (wheel,) = page.files
    assert wheel.core_metadata is advertise
    data = finder.core_metadata(wheel)
    assert metadata_name(data) == ("alpha", "1.0")
    assert b"Requires-Dist: beta>=2" in data
    # Advertised: the .metadata file only. Not advertised: the wheel's tail (a range), no guess at a .metadata file.
    assert index_server.hits(".metadata") == (1 if advertise else 0)
    assert index_server.hits("alpha-1.0-py3-none-any.whl") == 1


def beyond_the_tail(index_server):
    """A finder over ``index_server`` and a wheel whose METADATA lies beyond its last 64 KiB (set the server up first)."""
    index_server.add_wheel(Dist("gamma", "2.0", files={f"gamma/blob{i}.txt": "x" * 40000 + str(i) for i in range(8)}))
    finder = finder_for(index_server)
    (wheel,) = finder.project("gamma").files
    return finder, wheel


def test_core_metadata_by_ranged_read_when_no_metadata_file(index_server):
    index_server.serve_metadata = False
    finder, wheel = beyond_the_tail(index_server)
    assert metadata_name(finder.core_metadata(wheel)) == ("gamma", "2.0")
    file_requests = [headers for path, headers in index_server.requests if path.endswith(".whl")]
    assert file_requests
    assert all("range" in headers for headers in file_requests)


def test_core_metadata_whole_wheel_when_no_ranges(index_server):
    index_server.add_wheel(Dist("delta", "3.0"))
    index_server.serve_metadata = False
    index_server.ranges = False
    finder = finder_for(index_server)
    (wheel,) = finder.project("delta").files
    assert metadata_name(finder.core_metadata(wheel)) == ("delta", "3.0")


def test_core_metadata_of_an_sdist_reads_pkg_info(index_server):
    index_server.add_sdist(Dist("epsilon", "0.1"))
    finder = finder_for(index_server)
    (sdist,) = finder.project("epsilon").files
    assert sdist.packagetype == "sdist"
    assert metadata_name(finder.core_metadata(sdist)) == ("epsilon", "0.1")


def test_core_metadata_is_cached_on_disk(index_server, tmp_path):
    index_server.add_wheel(Dist("alpha", "1.0"))
    cache = Cache(tmp_path)
    finder = finder_for(index_server, cache=cache)
    (wheel,) = finder.project("alpha").files
    finder.core_metadata(wheel)
    before = len(index_server.requests)
    assert metadata_name(finder_for(index_server, cache=cache).core_metadata(wheel)) == ("alpha", "1.0")
    assert len(index_server.requests) == before


def test_retries_a_500_then_succeeds(index_server):
    index_server.load_fixture("django")
    index_server.fault("django", "500", times=2)
    page = finder_for(index_server).project("django")
    assert page is not None
    assert index_server.hits("/simple/django/") == 3


def test_persistent_500_is_index_unreachable(index_server):
    index_server.load_fixture("django")
    index_server.fault("django", "500")
    with pytest.raises(IndexUnreachableError, match=r"HTTP 500 \(after 3 attempts\)"):
        finder_for(index_server).project("django")


def test_slow_answers_time_out_and_are_retried(index_server):
    index_server.load_fixture("django")
    index_server.fault("django", "slow", times=1, delay=1.5)
    finder = finder_for(index_server, timeout=1.0, retries=1)
    with pytest.raises(IndexUnreachableError, match="no answer within the deadline"):
        finder.project("django")  # one deadline for the request, retries included
    assert index_server.hits("/simple/django/") == 1
    assert finder_for(index_server, timeout=5.0, retries=1).project("django") is not None


def test_malformed_json_is_a_clear_error(index_server):
    index_server.load_fixture("django")
    index_server.fault("django", "malformed")
    with pytest.raises(IndexUnreachableError, match="malformed JSON"):
        finder_for(index_server).project("django")


def test_injected_404_means_not_on_the_index(index_server):
    index_server.load_fixture("django")
    index_server.fault("django", "404")
    assert finder_for(index_server).project("django") is None


def test_a_huge_page_is_parsed_once_and_trimmed(index_server, tmp_path):
    index_server.fault("bigproject", "huge")
    index_server.cache_control = "max-age=600"  # a page the index says how long to keep
    cache = Cache(tmp_path)
    page = finder_for(index_server, cache=cache).project("bigproject")
    assert page is not None
    assert len(page.files) == 10000
    stored = next((tmp_path / "index-v1").rglob("bigproject.json")).stat().st_size
    assert stored < len(_huge_page("bigproject")) * 0.7  # provenance and other unread keys are not kept


def test_prefetch_many_projects_concurrently(index_server):
    for number in range(24):
        index_server.add_wheel(Dist(f"pkg{number}", "1.0"))
    finder = finder_for(index_server)
    pages = finder.pages([f"pkg{number}" for number in range(24)] + ["absent"])
    assert sorted(name for name, page in pages.items() if page is not None) == sorted(f"pkg{number}" for number in range(24))
    assert pages["absent"] is None
    assert index_server.hits("/simple/") == 25


def test_fresh_cache_answers_without_requests(index_server, tmp_path):
    index_server.load_fixture("django")
    finder_for(index_server, cache=Cache(tmp_path)).project("django")
    before = len(index_server.requests)
    page = finder_for(index_server, cache=Cache(tmp_path)).project("django")
    assert page is not None
    assert len(index_server.requests) == before


def test_stale_cache_revalidates_with_etag(index_server, tmp_path):
    index_server.load_fixture("django")
    finder_for(index_server, cache=Cache(tmp_path), freshness=0).project("django")
    page = finder_for(index_server, cache=Cache(tmp_path), freshness=0).project("django")
    assert index_server.requests[-1][1].get("if-none-match")
    assert page is not None
    assert index_server.requests[-1][1].get("if-none-match")
    assert len(page.files) == 5


def test_a_page_that_cannot_be_revalidated_is_not_kept(index_server, tmp_path):
    # no ETag, Last-Modified or Cache-Control: a later run asks again anyway, so writing it is wasted work
    index_server.load_fixture("django")
    index_server.send_etag = False
    finder = finder_for(index_server, cache=Cache(tmp_path))
    assert finder.project("django") is not None
    finder.close()
    assert not list(tmp_path.rglob("django.json"))
    index_server.cache_control = "max-age=60"
    finder = finder_for(index_server, cache=Cache(tmp_path))
    assert finder.project("django") is not None
    finder.close()
    assert list(tmp_path.rglob("django.json"))


def test_cache_control_no_store_is_honoured(index_server, tmp_path):
    index_server.load_fixture("django")
    index_server.cache_control = "no-store"
    finder_for(index_server, cache=Cache(tmp_path)).project("django")
    assert not list(tmp_path.rglob("django.json"))


def test_offline_uses_stale_cache_and_reports_the_rest_unknown(index_server, tmp_path):
    index_server.load_fixture("django")
    finder_for(index_server, cache=Cache(tmp_path)).project("django")
    index_server.requests.clear()
    offline = finder_for(index_server, cache=Cache(tmp_path), offline=True, freshness=0)
    pages = offline.pages(["django", "requests"])
    assert list(pages) == ["django"]
    assert offline.unknown == {"requests"}
    assert index_server.requests == []
    with pytest.raises(NotCachedError):
        offline.project("requests")


def test_credentials_are_sent_but_never_kept_in_urls_or_file_names(index_server, tmp_path):
    index_server.load_fixture("django")
    url = index_server.url.replace("http://", "http://alice:s3cret@")
    source = split_credentials(url)
    assert "s3cret" not in source.url
    assert "s3cret" not in repr(source)
    finder = finder_for(index_server, cache=Cache(tmp_path), url=url, retries=0)
    page = finder.project("django")
    assert page is not None
    assert index_server.requests[-1][1]["authorization"].startswith("Basic ")
    for path in tmp_path.rglob("*"):
        assert "s3cret" not in str(path)
        if path.is_file():
            assert b"s3cret" not in path.read_bytes()
            assert b"alice" not in path.read_bytes()


def test_unreachable_error_redacts_credentials(tmp_path):
    source = split_credentials("http://bob:hunter2@127.0.0.1:9/simple/")
    finder = IndexFinder(IndexOptions(indexes=(source,), retries=0, timeout=1.0))
    with pytest.raises(IndexUnreachableError) as caught:
        finder.project("x")
    assert "hunter2" not in str(caught.value)


def test_netrc_credentials(tmp_path):
    netrc = tmp_path / "netrc"
    netrc.write_text("machine index.invalid login carol password pw123\n")
    netrc.chmod(0o600)
    source = split_credentials("https://index.invalid/simple", netrc_path=netrc)
    assert source.url == "https://index.invalid/simple/"
    assert source.auth is not None
    assert source.auth.startswith("Basic ")


def test_per_version_vulnerabilities_when_offered(index_server, tmp_path):
    index_server.add_wheel(Dist("alpha", "1.0"))
    index_server.json_api = True
    index_server.vulnerabilities[("alpha", "1.0")] = [{"id": "PYSEC-0000-1", "aliases": ["CVE-0000-1"]}]
    finder = finder_for(index_server, cache=Cache(tmp_path))
    finder.project("alpha")
    assert finder.vulnerabilities("alpha", "1.0") == [{"id": "PYSEC-0000-1", "aliases": ["CVE-0000-1"]}]


def test_per_version_404_turns_the_json_api_off_for_the_run_and_the_cache(index_server, tmp_path):
    index_server.add_wheel(Dist("alpha", "1.0"))
    index_server.add_wheel(Dist("beta", "1.0"))
    finder = finder_for(index_server, cache=Cache(tmp_path))
    finder.pages(["alpha", "beta"])
    assert finder.vulnerabilities("alpha", "1.0") is None
    assert finder.vulnerabilities("beta", "1.0") is None
    assert index_server.hits("/pypi/") == 1
    again = finder_for(index_server, cache=Cache(tmp_path))
    assert again.vulnerabilities("beta", "1.0") is None
    assert index_server.hits("/pypi/") == 1


def test_file_index_tree_is_read_from_disk(tmp_path):
    tree = tmp_path / "simple"
    (tree / "alpha").mkdir(parents=True)
    (tree / "alpha" / "index.html").write_text('<a href="../../files/alpha-1.0-py3-none-any.whl#sha256=ab">alpha-1.0-py3-none-any.whl</a>')
    (tree / "beta").mkdir()
    (tree / "beta" / "beta-2.0.tar.gz").write_bytes(b"")
    finder = finder_over(tree.as_uri())
    alpha = finder.project("alpha")
    assert alpha is not None
    assert [(item.version, item.sha256) for item in alpha.files] == [("1.0", "ab")]
    assert alpha.files[0].url == (tmp_path / "files" / "alpha-1.0-py3-none-any.whl").as_uri()
    beta = finder.project("beta")
    assert beta is not None
    assert [item.version for item in beta.files] == ["2.0"]
    assert finder.project("gamma") is None
    assert finder.requests == 0


def test_indexes_are_merged_primary_first(index_server, tmp_path):
    index_server.add_wheel(Dist("alpha", "1.0"))
    tree = tmp_path / "simple" / "alpha"
    tree.mkdir(parents=True)
    (tree / "index.html").write_text('<a href="alpha-2.0-py3-none-any.whl">x</a>')
    finder = finder_over(index_server.url, (tmp_path / "simple").as_uri())
    page = finder.project("alpha")
    assert page is not None
    assert sorted(item.version for item in page.files) == ["1.0", "2.0"]
    assert page.index_url == index_server.url
