"""The markers of a universal lock (reprolock.lock.markerspace), on the real space ``--universal`` samples.

The space is built the way ``lock --universal --python-version 3.9`` builds it
(CPython 3.9 to 3.14 times linux, macos and windows); a marker parsed into it
and rendered back must say where a lock entry is installed, in the forms uv
writes, and must hold on exactly the samples the original marker holds on.
"""

from __future__ import annotations

import pytest
from packaging.markers import Marker

from reprolock.lock.markerspace import conjoin, restrict
from reprolock.lock.target import running_target
from reprolock.lock.universal import universe

SPACE = universe("3.9", [], running_target()).space
NEVER = 'python_version < "0"'


def samples_where(marker: str) -> set[int]:
    """The samples where ``marker`` holds, by packaging's own evaluation of each sample's environment."""
    return {index for index, env in enumerate(SPACE.envs) if Marker(marker).evaluate(dict(env))}


def rendered(marker: str, extras: tuple[str, ...] = ()) -> str | None:
    return SPACE.render(SPACE.parse(marker, extras))


def test_the_space_is_every_minor_from_the_lower_bound_to_314_on_three_platforms():
    """``--python-version 3.9`` samples CPython 3.9 to 3.14 on linux x86_64, macOS arm64 and Windows AMD64."""
    assert SPACE.minors == (9, 10, 11, 12, 13, 14)
    assert SPACE.platforms == ("linux", "darwin", "win32")
    assert len(SPACE.envs) == 18
    windows_311 = SPACE.envs[SPACE.sample(11, "win32")]
    assert (windows_311["python_version"], windows_311["sys_platform"], windows_311["platform_system"], windows_311["platform_machine"]) == (
        "3.11",
        "win32",
        "Windows",
        "AMD64",
    )
    mac_39 = SPACE.envs[SPACE.sample(9, "darwin")]
    assert (mac_39["python_full_version"], mac_39["platform_machine"], mac_39["os_name"]) == ("3.9.0", "arm64", "posix")


@pytest.mark.parametrize(
    ("marker", "expected"),
    [
        # single minors: the first and last of the range are open ends, a middle one is a wildcard
        ('python_version == "3.9"', 'python_full_version < "3.10"'),
        ('python_version == "3.10"', 'python_full_version == "3.10.*"'),
        ('python_version == "3.14"', 'python_full_version >= "3.14"'),
        # open ends and ranges
        ('python_version < "3.10"', 'python_full_version < "3.10"'),
        ('python_version <= "3.10"', 'python_full_version < "3.11"'),
        ('python_version > "3.10"', 'python_full_version >= "3.11"'),
        ('python_full_version >= "3.11"', 'python_full_version >= "3.11"'),
        ('python_full_version < "3.11.0"', 'python_full_version < "3.11"'),
        ('python_version >= "3.10" and python_version < "3.13"', 'python_full_version >= "3.10" and python_full_version < "3.13"'),
        ('python_version != "3.12"', 'python_full_version < "3.12" or python_full_version >= "3.13"'),
        ('python_version < "3.10" or python_version >= "3.13"', 'python_full_version < "3.10" or python_full_version >= "3.13"'),
        # platforms, whichever variable names them, as sys_platform == or !=
        ('sys_platform == "win32"', 'sys_platform == "win32"'),
        ('os_name == "nt"', 'sys_platform == "win32"'),
        ('platform_system == "Darwin"', 'sys_platform == "darwin"'),
        ('sys_platform != "darwin"', 'sys_platform != "darwin"'),
        ('os_name == "posix"', 'sys_platform != "win32"'),
        ('sys_platform == "linux" or sys_platform == "darwin"', 'sys_platform != "win32"'),
        # a region that is a Python range on one platform
        ('python_version < "3.10" and sys_platform == "win32"', 'python_full_version < "3.10" and sys_platform == "win32"'),
        (
            'sys_platform == "linux" and python_version < "3.10" or platform_system == "Darwin" and python_version >= "3.12"',
            '(python_full_version < "3.10" and sys_platform == "linux") or (python_full_version >= "3.12" and sys_platform == "darwin")',
        ),
    ],
)
def test_a_sampled_marker_renders_as_a_version_range_and_platform_region(marker, expected):
    """A marker the samples decide is written as uv writes it, and holds on exactly the samples the original holds on."""
    assert rendered(marker) == expected
    assert samples_where(expected) == samples_where(marker)


def test_python_below_311_or_windows_is_one_region_with_both_operands():
    """The union of two paths (``python < 3.11`` and ``win32``) is one marker naming both, true on exactly their union."""
    text = rendered('python_version < "3.11" or sys_platform == "win32"')
    assert text is not None
    assert set(text.split(" or ")) == {'python_full_version < "3.11"', 'sys_platform == "win32"'}
    assert samples_where(text) == samples_where('python_version < "3.11"') | samples_where('sys_platform == "win32"')
    # the same region reached as the union of two separately parsed paths
    assert SPACE.render(SPACE.parse('python_version < "3.11"') | SPACE.parse('platform_system == "Windows"')) == text


def test_a_marker_true_everywhere_renders_as_no_marker_and_one_true_nowhere_as_never():
    """An entry every sample installs gets no marker; a marker no sample satisfies renders as a marker that is never true."""
    assert SPACE.render(SPACE.true()) is None
    assert SPACE.parse(None) == SPACE.true()
    assert rendered('python_version >= "3.9"') is None
    assert rendered('sys_platform == "linux" or sys_platform != "linux"') is None
    assert rendered('python_version < "3.9"') == NEVER
    assert SPACE.render(frozenset()) == NEVER
    assert samples_where(NEVER) == set()


def test_residual_atoms_are_kept_as_written():
    """What no sample decides (the machine, the implementation) stays in the marker, alone or inside a region."""
    assert rendered('platform_machine == "x86_64"') == 'platform_machine == "x86_64"'
    assert rendered('implementation_name == "pypy"') == 'implementation_name == "pypy"'
    assert rendered('platform_machine == "x86_64" or platform_machine == "aarch64"') == 'platform_machine == "aarch64" or platform_machine == "x86_64"'
    assert rendered('sys_platform == "linux" and platform_machine == "x86_64"') == 'sys_platform == "linux" and platform_machine == "x86_64"'
    # a path through a machine-guarded edge, then a Python-guarded one: both conditions survive
    path = conjoin(SPACE.parse('platform_machine == "x86_64"'), SPACE.parse('python_version < "3.11"'))
    assert SPACE.render(path) == 'python_full_version < "3.11" and platform_machine == "x86_64"'
    # restricted to the samples where one version was chosen, the region joins the residual atom
    linux_old = frozenset({SPACE.sample(9, "linux"), SPACE.sample(10, "linux")})
    assert SPACE.render(restrict(SPACE.parse('platform_machine == "x86_64"'), linux_old)) == (
        'python_full_version < "3.11" and sys_platform == "linux" and platform_machine == "x86_64"'
    )


def test_a_patch_level_python_version_renders_as_itself():
    """``python_full_version < "3.11.3"`` (redis' async-timeout) is kept as written, with no redundant version region."""
    assert rendered('python_full_version < "3.11.3"') == 'python_full_version < "3.11.3"'
    assert rendered('python_full_version >= "3.11.3"') == 'python_full_version >= "3.11.3"'
    # it could hold on 3.9, 3.10 and 3.11 (3.11.0 to 3.11.2), never later
    could = {index for index in range(len(SPACE.envs)) if SPACE.holds(index, 'python_full_version < "3.11.3"')}
    assert could == {SPACE.sample(minor, platform) for minor in (9, 10, 11) for platform in SPACE.platforms}
    # narrowed to CPython 3.11 on linux, the region is needed and written before the atom
    only = restrict(SPACE.parse('python_full_version < "3.11.3"'), frozenset({SPACE.sample(11, "linux")}))
    assert SPACE.render(only) == 'python_full_version == "3.11.*" and sys_platform == "linux" and python_full_version < "3.11.3"'


def test_extras_are_settled_by_the_extras_the_parent_was_asked_for():
    """``extra == "socks"`` holds when the parent was asked with that extra; the rest of the marker remains."""
    assert rendered('extra == "socks"') == NEVER
    assert rendered('extra == "socks"', ("", "socks")) is None
    assert rendered('extra == "socks"', ("", "docs")) == NEVER
    assert rendered('python_version < "3.11" and extra == "socks"', ("", "socks")) == 'python_full_version < "3.11"'
    assert rendered('python_version < "3.11" and extra == "socks"') == NEVER
    assert rendered('extra == "socks" or sys_platform == "win32"') == 'sys_platform == "win32"'


def test_holds_is_lenient_for_residual_atoms_and_exact_for_sampled_ones():
    """The resolution follows a machine-guarded requirement on every sample, but a platform or version guard only where it holds."""
    everywhere = set(range(len(SPACE.envs)))
    assert {index for index in everywhere if SPACE.holds(index, 'platform_machine == "x86_64"')} == everywhere
    # not even the sample's own machine decides it: macOS arm64 and Windows AMD64 still follow it
    assert SPACE.holds(SPACE.sample(12, "darwin"), 'platform_machine == "x86_64"')
    assert not Marker('platform_machine == "x86_64"').evaluate(dict(SPACE.envs[SPACE.sample(12, "darwin")]))
    windows = {index for index in everywhere if SPACE.holds(index, 'sys_platform == "win32"')}
    assert windows == {SPACE.sample(minor, "win32") for minor in SPACE.minors}
    old = {index for index in everywhere if SPACE.holds(index, 'python_version < "3.11"')}
    assert old == {SPACE.sample(minor, platform) for minor in (9, 10) for platform in SPACE.platforms}
    assert {index for index in everywhere if SPACE.holds(index, 'platform_machine == "x86_64" and sys_platform == "darwin"')} == {
        SPACE.sample(minor, "darwin") for minor in SPACE.minors
    }
    assert SPACE.holds(0, None)
    assert not SPACE.holds(0, 'extra == "socks"')
    assert SPACE.holds(0, 'extra == "socks"', ("", "socks"))


def test_a_range_starting_at_312_writes_its_ends_open():
    """With 3.12 as the lower bound, 3.12 alone is ``< "3.13"`` and 3.14 alone is ``>= "3.14"``."""
    space = universe("3.12", [], running_target()).space
    assert space.minors == (12, 13, 14)
    assert space.render(space.parse('python_version == "3.12"')) == 'python_full_version < "3.13"'
    assert space.render(space.parse('python_version == "3.13"')) == 'python_full_version == "3.13.*"'
    assert space.render(space.parse('python_version == "3.14"')) == 'python_full_version >= "3.14"'
    assert space.render(space.parse('python_version < "3.11"')) == NEVER


def test_an_equality_makes_other_conditions_on_its_variable_redundant_or_impossible():
    """cffi's ``implementation_name != "PyPy"`` along a path to ``implementation_name == "pypy"`` is the latter alone (as uv writes it)."""
    from reprolock.lock.markerspace import conjoin  # noqa: PLC0415 - the one test of conjunction across markers

    def both(left: str, right: str) -> str | None:
        return SPACE.render(conjoin(SPACE.parse(left), SPACE.parse(right)))

    assert both('implementation_name != "PyPy"', 'implementation_name == "pypy"') == 'implementation_name == "pypy"'
    assert both('platform_machine == "x86_64"', 'platform_machine == "arm64"') == NEVER
    assert both('platform_machine == "x86_64"', 'platform_machine != "x86_64"') == NEVER
    assert both('platform_machine == "x86_64"', 'platform_machine != "arm64"') == 'platform_machine == "x86_64"'
    assert not SPACE.holds(0, 'platform_machine == "x86_64" and platform_machine == "arm64"')
