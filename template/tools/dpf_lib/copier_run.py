"""Running Copier: its Python API where it is importable, the `copier` on PATH otherwise
(the one Renovate runs), and what to tell the user when it stops."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

from .settings import DpfError


def copier_command() -> list[str]:
    exe = shutil.which("copier")
    if exe:
        return [exe]
    import importlib.util

    if importlib.util.find_spec("copier") is None:
        raise DpfError("copier is not installed: install it with `pipx install copier` "
                       "(or `pip install \"copier>=9.9.1\"`), then run this again")
    return [sys.executable, "-m", "copier"]


# Copier 9.19 re-applies the team's edits through plumbum, which decodes `git diff` output
# with the filesystem encoding and errors="ignore": every byte of an edited line that is not
# UTF-8 (a Latin-1 letter) is dropped. Decoding as Latin-1 maps each byte to one character
# and back, so the diff reaches `git apply` byte for byte; git quotes non-ASCII file names,
# so names Copier parses are unchanged. Only the Copier that dpf.py update starts gets it.
BYTE_EXACT_SHIM = """\
try:
    from plumbum.machines.local import LocalMachine
    LocalMachine.custom_encoding = "latin-1"
except Exception:  # no plumbum: nothing to patch
    pass
"""


def byte_exact_env(scratch: Path) -> dict[str, str]:
    """Environment for the Copier subprocess with BYTE_EXACT_SHIM as its sitecustomize."""
    shim = scratch / "byte-exact"
    shim.mkdir(exist_ok=True)
    (shim / "sitecustomize.py").write_text(BYTE_EXACT_SHIM)
    path = os.pathsep.join(filter(None, [str(shim), os.environ.get("PYTHONPATH")]))
    return {**os.environ, "PYTHONPATH": path}


def render_release(location: str, ref: str | None, data: dict, dest: Path) -> Path:
    """The template at `ref` rendered with `data`, the way Copier renders the old release:
    with Copier's API where it is importable (typed errors), else the `copier` on PATH."""
    answers = {k: v for k, v in data.items() if not k.startswith("_")}
    try:
        import copier
        from copier.errors import UnsafeTemplateError, UserMessageError
    except ImportError:
        copier = None
    if copier is not None:
        try:
            copier.run_copy(location, str(dest), vcs_ref=ref, data=answers, defaults=True, quiet=True,
                            unsafe=False)
            return dest
        except UnsafeTemplateError as exc:
            raise DpfError(f"the template at {ref or 'its latest release'} uses features Copier runs only "
                           f"with --trust ({str(exc).strip()[:200]}); nothing was changed") from None
        except UserMessageError as exc:
            raise DpfError(f"Copier stopped: {str(exc).strip()[:300]}; nothing was changed") from None
        except Exception as exc:  # noqa: BLE001 - a render we cannot do is reported, not raised
            raise DpfError(_render_failure(ref, type(exc).__name__, str(exc).strip()[:300])) from None
    cmd = [*copier_command(), "copy", "--quiet", "--defaults"]
    if ref:
        cmd += ["--vcs-ref", ref]
    for key, value in answers.items():
        if isinstance(value, (str, int, float, bool)):
            cmd += ["--data", f"{key}={str(value).lower() if isinstance(value, bool) else value}"]
    result = subprocess.run([*cmd, location, str(dest)], capture_output=True, text=True)
    if result.returncode != 0:
        kind, message = raised(result.stderr)
        raise DpfError(_render_failure(ref, kind, message))
    return dest


def copier_fault(kind: str, message: str) -> str:
    """What a Copier error is about: "answers" it refused, a "revision" it cannot find, or
    "other". Copier raises plain ValueError for both, told apart by their wording."""
    if kind == "ValueError" and message.startswith(("Validation error", "Invalid choice", "Question \"")):
        return "answers"
    if "revision" in message.lower():
        return "revision"
    return "other"


def raised(stderr: str) -> tuple[str, str]:
    """(exception type, message) of the last line of a Copier command that stopped, e.g.
    ("ValueError", "Unknown revision: 'v9'"); ("", line) when it is not an exception."""
    last = (stderr.strip().splitlines() or ["copier failed"])[-1]
    kind, sep, message = last.partition(": ")
    name = kind.rsplit(".", 1)[-1]
    if sep and all(part.isidentifier() for part in kind.split(".")) and name[:1].isupper():
        return name, message
    return "", last


def _render_failure(ref: str | None, kind: str, message: str) -> str:
    fault = copier_fault(kind, message)
    if fault == "answers":
        return f"Copier refused the answers: {message.splitlines()[0]}; nothing was changed"
    if fault == "revision":
        return (f"Copier could not find the template revision `{ref}` (recorded as `_commit` in an answers "
                "file, or asked for with --to); set `_commit` back to the release that last rendered the "
                "folder (`git log -p -- .copier-answers.yml` shows every value it had); nothing was changed")
    why = f"{kind}: {message}" if kind else message
    return (f"cannot render the template at {ref or 'its latest release'} to compare with your files "
            f"({why}); nothing was changed")


# `dpf.py update` runs `copier update` as a subprocess, not through the API, on purpose:
# it is the `copier` on PATH that Renovate runs, so the team gets what Renovate would give;
# BYTE_EXACT_SHIM patches plumbum for that process only (in this process it would change
# how every later git call decodes); and a Copier that crashes or is killed leaves this
# process alive to say what happened. Its errors come back as an exit code and stderr:
# 4 is Copier's UnsafeTemplateError (a migration that needs --trust), 1 without a traceback
# a UserMessageError Copier already explained, and anything else a traceback whose last
# line names the exception.
UNSAFE_EXIT = 4
TRACEBACK = "Traceback (most recent call last)"


def report_copier_failure(target_rel: str, current: str | None, result: subprocess.CompletedProcess,
                          trust: bool, nothing: str) -> None:
    err = result.stderr
    if TRACEBACK not in err:
        sys.stderr.write(err)
        if (result.returncode == UNSAFE_EXIT or "--trust" in err) and not trust:
            print("dpf: this release carries a migration (its CHANGELOG entry says so); "
                  "read it, then re-run with --trust", file=sys.stderr)
        print(f"dpf: error: Copier stopped on {target_rel} in a temporary worktree; {nothing}",
              file=sys.stderr)
        return
    kind, message = raised(err)
    fault = copier_fault(kind, message)
    if fault == "revision":
        reason = (f"Copier could not find the template revision recorded in {target_rel} (`_commit: {current}`) "
                  f"or asked for; set `_commit` back to the release that last rendered this folder "
                  f"(`git log -p -- {target_rel}` shows every value it had)")
    elif kind == "ValueError":
        reason = f"Copier refused the answers for {target_rel}: {message}"
    else:
        reason = f"Copier stopped on {target_rel} with an internal error: {f'{kind}: {message}' if kind else message}"
    print(f"dpf: error: {reason}; {nothing}", file=sys.stderr)
