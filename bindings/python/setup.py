# setup.py — only what pyproject.toml cannot say: a wheel that carries libpacketdtls.so is a
# platform wheel. With the library copied into packetdtls/ (scripts/package does it) the wheel is
# tagged py3-none-<platform> (ctypes needs no particular Python ABI; auditwheel then gives it its
# manylinux tag); without it, the package stays pure Python (py3-none-any) and finds the library
# elsewhere (PACKETDTLS_LIBRARY, a repository build, the system's linker path).
from pathlib import Path

from setuptools import setup
from setuptools.dist import Distribution

try:
    from setuptools.command.bdist_wheel import bdist_wheel
except ImportError:  # setuptools < 70.1
    from wheel.bdist_wheel import bdist_wheel  # type: ignore[no-redef]

CARRIES_LIBRARY = (Path(__file__).resolve().parent / "packetdtls" / "libpacketdtls.so").is_file()


class LibraryDistribution(Distribution):
    """With the library inside, files install to platlib (as an extension module's would)."""

    def has_ext_modules(self) -> bool:
        return CARRIES_LIBRARY


class PlatformWheel(bdist_wheel):
    def get_tag(self):
        python, abi, platform = super().get_tag()
        return ("py3", "none", platform) if CARRIES_LIBRARY else (python, abi, platform)


setup(distclass=LibraryDistribution, cmdclass={"bdist_wheel": PlatformWheel})
