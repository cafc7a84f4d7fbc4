"""Finding and loading libpacketdtls, the declarations, Error/Status, and the module-level functions."""

from __future__ import annotations

import ctypes
import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

import packetdtls
from packetdtls import Error, PacketPeerDTLS, Status, _library
from packetdtls._library import FUNCTIONS, PacketDTLSLibraryNotFound

from .conftest import PACKAGE_ROOT, header_functions


def run_python(code: str, **env: str) -> subprocess.CompletedProcess:
    environment = {k: v for k, v in os.environ.items() if k != "PACKETDTLS_LIBRARY"}
    environment.update(env)
    environment["PYTHONPATH"] = str(PACKAGE_ROOT)
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        capture_output=True,
        text=True,
        timeout=60,
        env=environment,
    )


# MARK: - Declarations


def test_declarations_cover_the_header_exactly():
    declared = set(header_functions())
    assert len(declared) > 90
    assert declared == set(FUNCTIONS), declared ^ set(FUNCTIONS)


def test_every_header_function_is_exported():
    """Fails, listing them, while the loaded library lacks functions of the header."""
    assert packetdtls.missing_functions() == []


def test_every_exported_function_binds_with_its_declaration():
    for name in FUNCTIONS:
        if _library.lib.has(name):
            function = getattr(_library.lib, name)
            assert function.argtypes is not None and len(function.argtypes) == len(FUNCTIONS[name][1])


def test_hot_functions_are_declared_and_skip_only_the_argument_checks(monkeypatch):
    """The per-packet calls without argtypes (_library.hot): each is a function of the table, with its
    declared restype, a function object of its own (lib's keeps its argtypes), and takes only arguments
    the binding builds itself (handles, buffers, size_t and size_t * as ctypes objects)."""
    allowed = {
        _library.PeerHandle,
        _library.UdpHandle,
        _library.UdpServerHandle,
        ctypes.c_void_p,
        ctypes.c_size_t,
        ctypes.POINTER(ctypes.c_size_t),
    }
    assert set(_library.hot) == set(_library.HOT_FUNCTIONS)
    for name, function in _library.hot.items():
        restype, argtypes = FUNCTIONS[name]
        assert function.argtypes is None and function.restype is restype
        assert function is not getattr(_library.lib, name)
        assert getattr(_library.lib, name).argtypes == list(argtypes)
        assert set(argtypes) <= allowed, name

    class NoSymbols:
        def __getitem__(self, name: str) -> None:
            raise AttributeError(name)

    monkeypatch.setattr(_library, "_cdll", NoSymbols())
    missing = _library._unchecked("dtls_peer_poll")
    with pytest.raises(_library.MissingFunctionError, match="dtls_peer_poll"):
        missing(None)


def test_handle_kinds_cannot_be_mixed():
    peer = PacketPeerDTLS()
    with pytest.raises(ctypes.ArgumentError):
        _library.lib.dtls_server_stop(peer._h)  # a dtls_peer where a dtls_server goes


def test_unknown_attribute_of_lib_is_attribute_error():
    with pytest.raises(AttributeError):
        _library.lib.dtls_no_such_function  # noqa: B018


# MARK: - Version and names


def test_version():
    number = packetdtls.version_number()
    assert number // 10000 == _library.EXPECTED_MAJOR
    major, minor, patch = number // 10000, number // 100 % 100, number % 100
    assert f"{major}.{minor}.{patch}" in packetdtls.version_string()
    assert "mbedTLS" in packetdtls.version_string()
    assert packetdtls.__version__ == "0.1.0"


def test_error_enum_matches_godot_and_the_library():
    assert len(Error) == 49
    assert Error.OK == 0 and Error.FAILED == 1 and Error.ERR_INVALID_PARAMETER == 31
    assert Error.ERR_PRINTER_ON_FIRE == 48 and Error.ERR_BUSY == 44 and Error.ERR_TIMEOUT == 24
    for error in Error:
        assert packetdtls.error_string(error) == error.name
        assert packetdtls.error_string(int(error)) == error.name
    assert packetdtls.error_string(49) == "ERR_UNKNOWN"
    assert packetdtls.error_string(-1) == "ERR_UNKNOWN"
    assert packetdtls.error_string(2**70) == "ERR_UNKNOWN"
    assert str(Error.ERR_BUSY) == "ERR_BUSY"
    assert isinstance(Error.OK, int)


def test_error_string_wrong_types():
    for bad in ("OK", None, 1.0, True):
        with pytest.raises(TypeError):
            packetdtls.error_string(bad)  # type: ignore[arg-type]


def test_status_enum():
    assert [int(s) for s in Status] == [0, 1, 2, 3, 4]
    assert PacketPeerDTLS.Status is Status
    assert PacketPeerDTLS.STATUS_DISCONNECTED == 0
    assert PacketPeerDTLS.STATUS_HANDSHAKING == 1
    assert PacketPeerDTLS.STATUS_CONNECTED == 2
    assert PacketPeerDTLS.STATUS_ERROR == 3
    assert PacketPeerDTLS.STATUS_ERROR_HOSTNAME_MISMATCH == 4
    assert PacketPeerDTLS.Status.STATUS_CONNECTED is PacketPeerDTLS.STATUS_CONNECTED
    for status in Status:
        assert packetdtls.status_string(status) == status.name
    assert packetdtls.status_string(99) == "STATUS_UNKNOWN"


def test_last_error_message_is_a_sentence_after_a_failure():
    peer = PacketPeerDTLS()
    assert peer.poll() == Error.ERR_UNCONFIGURED
    message = packetdtls.last_error_message()
    assert isinstance(message, str) and message


# MARK: - Finding the library


def test_library_path_is_a_real_file():
    assert Path(packetdtls.library_path()).name.startswith("libpacketdtls")


def test_candidates_follow_the_contract_order(monkeypatch, tmp_path):
    monkeypatch.setenv("PACKETDTLS_LIBRARY", str(tmp_path / "x.so"))
    places = _library.candidates()
    descriptions = [d for d, _ in places]
    assert descriptions[0].startswith("$PACKETDTLS_LIBRARY")
    assert descriptions[1] == "inside the package"
    assert any("build folder" in d for d in descriptions[2:])
    assert descriptions[-1].startswith("system linker path")
    paths = [p for _, p in places if p]
    root = PACKAGE_ROOT.parent.parent
    assert str(root / ".build" / "debug" / "libpacketdtls.so") in paths
    assert str(root / ".build" / "release" / "libpacketdtls.so") in paths
    assert str(root / "build" / "libpacketdtls.so") in paths


def test_not_found_lists_every_place_with_its_reason(tmp_path):
    not_a_library = tmp_path / "libpacketdtls.so"
    not_a_library.write_text("not an ELF file")
    places = [
        ("$PACKETDTLS_LIBRARY", None),
        ("missing", str(tmp_path / "nope" / "libpacketdtls.so")),
        ("garbage", str(not_a_library)),
        ("libc, not ours", "libc.so.6"),
    ]
    with pytest.raises(PacketDTLSLibraryNotFound) as raised:
        _library.load_first(places)
    error = raised.value
    assert isinstance(error, ImportError)
    assert len(error.tried) == 4
    text = str(error)
    assert "not set" in text
    assert "no such file" in text
    assert "could not be loaded" in text
    assert "no dtls_version_number" in text


@pytest.mark.skipif(shutil.which("cc") is None, reason="needs a C compiler for a fake library")
def test_version_mismatch_is_refused(tmp_path):
    source = tmp_path / "fake.c"
    source.write_text("unsigned dtls_version_number(void) { return 70000; }\n")
    fake = tmp_path / "libpacketdtls.so"
    subprocess.run(["cc", "-shared", "-fPIC", "-o", str(fake), str(source)], check=True, timeout=60)
    with pytest.raises(PacketDTLSLibraryNotFound, match=r"version 7\.0\.0, this package needs 0\.x"):
        _library.load_first([("fake", str(fake))])


def test_environment_variable_wins():
    real = packetdtls.library_path()
    result = run_python("import packetdtls; print(packetdtls.library_path())", PACKETDTLS_LIBRARY=real)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == real


def test_environment_variable_may_name_a_folder():
    real = Path(packetdtls.library_path())
    result = run_python("import packetdtls; print(packetdtls.library_path())", PACKETDTLS_LIBRARY=str(real.parent))
    assert result.returncode == 0, result.stderr
    assert Path(result.stdout.strip()) == real


def test_a_wrong_environment_variable_warns_and_falls_back(tmp_path):
    result = run_python(
        "import warnings; warnings.simplefilter('always'); import packetdtls; print(packetdtls.library_path())",
        PACKETDTLS_LIBRARY=str(tmp_path / "missing.so"),
    )
    assert result.returncode == 0, result.stderr
    assert "PACKETDTLS_LIBRARY is set but" in result.stderr
    assert "RuntimeWarning" in result.stderr


def test_import_fails_with_one_error_when_nothing_loads(tmp_path):
    """A copy of the package outside the repository, with the env var pointing nowhere: ImportError."""
    copy = tmp_path / "site"
    shutil.copytree(PACKAGE_ROOT / "packetdtls", copy / "packetdtls", ignore=shutil.ignore_patterns("*.so"))
    code = f"""
        import sys
        sys.path.insert(0, {str(copy)!r})
        try:
            import packetdtls
        except ImportError as error:
            print(type(error).__name__)
            print(error)
        else:
            print("loaded", packetdtls.library_path())
    """
    environment = {k: v for k, v in os.environ.items() if k != "PACKETDTLS_LIBRARY"}
    environment["PACKETDTLS_LIBRARY"] = str(tmp_path / "missing.so")
    environment["LD_LIBRARY_PATH"] = ""
    result = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)], capture_output=True, text=True, timeout=60, env=environment
    )
    assert result.returncode == 0, result.stderr
    if result.stdout.startswith("loaded"):
        pytest.skip("libpacketdtls is installed on the system linker path")
    assert result.stdout.startswith("PacketDTLSLibraryNotFound")
    assert "missing.so" in result.stdout
    assert "inside the package" in result.stdout
    assert "no Package.swift" in result.stdout
    assert "system linker path" in result.stdout
