"""Release versions: one ordering (PEP 440, as Copier and Renovate read git tags)."""

from __future__ import annotations

from .settings import DpfError


def release_version(ref: str):
    """The packaging Version a release tag names (`v` prefix allowed), or None for anything
    else: a branch, a commit, `git describe` output, or a pre-release, which Copier skips
    unless asked."""
    try:
        from packaging.version import InvalidVersion, Version  # Copier's own dependency
    except ModuleNotFoundError:
        raise DpfError("`dpf.py update` needs the Python package packaging, which Copier brings: "
                       "run it with the Python Copier is installed in, or `python -m pip install "
                       "packaging`; nothing was changed") from None

    try:
        version = Version(ref)
    except InvalidVersion:
        return None
    return None if version.is_prerelease or version.local else version
