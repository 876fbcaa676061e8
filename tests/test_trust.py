"""Copy and routine updates never need --trust (Renovate's hosted app never passes it)."""

from __future__ import annotations

import yaml

from testkit.helpers import ROOT, git
from testkit.ladder import copier_cli


def test_template_declares_no_unsafe_feature():
    config = yaml.safe_load((ROOT / "copier.yml").read_text())
    assert "_tasks" not in config and "_jinja_extensions" not in config


def test_copy_and_same_version_update_work_without_trust(template_repo, tmp_path):
    src, info = template_repo
    project = tmp_path / "project"
    run = copier_cli(tmp_path, "copy", "--defaults", "--vcs-ref", info["head"], str(src), str(project))
    assert run.returncode == 0, run.stderr
    git(project, "init", "-q")
    git(project, "add", "-A")
    git(project, "commit", "-q", "-m", "Render")
    run = copier_cli(project, "update", "--defaults", "--skip-answered", "--vcs-ref", info["head"])
    assert run.returncode == 0, run.stderr
    assert "unsafe" not in run.stderr.lower()
    assert git(project, "status", "--porcelain") == ""
