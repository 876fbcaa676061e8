"""Unit tests for tools/dpf_lib/, the package behind the generated repository's tools/dpf.py:
settings from dpf.toml, front-matter, release ordering, conflict markers, Copier's errors.
The commands themselves are tested end to end in test_health.py and test_dpf_update.py."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import copier
import pytest
import yaml

from testkit.helpers import ROOT

# template/tools/ is on the path through pytest.ini
from dpf_lib import copier_run, markers, settings, versions
from dpf_lib.markdown import parse_markdown, read_flat_yaml


@pytest.fixture(scope="module")
def rendered(template_repo, tmp_path_factory) -> Path:
    """A repository rendered with every default answer."""
    dst = tmp_path_factory.mktemp("dpf-lib") / "repo"
    copier.run_copy(str(template_repo[0]), dst, vcs_ref="HEAD", defaults=True, quiet=True, unsafe=False)
    return dst


# ---------------------------------------------------------------------------
#  Settings: dpf.toml
# ---------------------------------------------------------------------------
def write_config(root: Path, text: str) -> Path:
    (root / "dpf.toml").write_text(text, encoding="utf-8")
    return root


def test_settings_come_from_dpf_toml(tmp_path):
    root = write_config(tmp_path, '[health]\nstale_after_days = 30\nignore = ["archive/*"]\n'
                                  '[products]\ndirectory = "products"\nindex = "products/README.md"\n'
                                  '[answers]\nshared = ["team_name"]\n'
                                  '[index]\naudience_labels = { internal = "Us" }\n')
    config = settings.load_config(root)
    assert config.stale_after_days == 30 and config.ignored("archive/old.md")
    assert (config.products_dir, config.index) == ("products", "products/README.md")
    assert config.shared_answers == ["team_name"]
    assert config.audience_labels == {"internal": "Us"}
    assert config.notes == []
    assert settings.products_directory(root) == "products"


def test_keys_a_dpf_toml_lacks_fall_back_to_the_defaults(tmp_path):
    config = settings.load_config(write_config(tmp_path, "[health]\nstale_after_days = 7\n"))
    assert config.stale_after_days == 7
    assert config.product_documents == settings.DEFAULTS["product_documents"]
    assert config.shared_answers == settings.DEFAULTS["shared_answers"]


def test_no_dpf_toml_says_so_and_requires_nothing(tmp_path):
    config = settings.load_config(tmp_path)
    assert config.required == [] and "no dpf.toml" in config.notes[0]


@pytest.mark.parametrize("text, says", [
    ("[health\n", "invalid TOML"),
    ("[health]\nstale_after_days = 0\n", "stale_after_days"),
    ("[health]\nstale_severity = 'loud'\n", "stale_severity"),
    ("[products]\ndocuments = 'spec.md'\n", "product_documents must be a list"),
    ("[answers]\nshared = [1]\n", "shared_answers must be a list"),
])
def test_a_bad_dpf_toml_is_a_clear_error(tmp_path, text, says):
    with pytest.raises(settings.DpfError, match=re.escape(says)):
        settings.load_config(write_config(tmp_path, text))


def test_defaults_are_what_the_template_renders(rendered):
    """DEFAULTS (used without dpf.toml) cannot drift from the template's own tables."""
    config = settings.load_config(rendered)
    for key, default in settings.DEFAULTS.items():
        if key != "required":
            assert getattr(config, key) == default, key


def test_shared_answers_and_audiences_are_the_templates_questions(rendered):
    questions = yaml.safe_load((ROOT / "copier.yml").read_text(encoding="utf-8"))
    config = settings.load_config(rendered)
    assert set(config.shared_answers) <= {k for k in questions if not k.startswith("_")}
    assert set(config.audience_labels) == set(questions["product_audience"]["choices"].values())


# ---------------------------------------------------------------------------
#  Front-matter and answers files (PyYAML)
# ---------------------------------------------------------------------------
def test_values_stay_text_with_the_line_of_each_key():
    text = ("# comment\n_commit: v1.2\nlast_reviewed: 2026-01-31\nflag: true\nempty:\nnone: ~\n"
            "folded: >-\n  two\n  lines\nlist:\n- a\n- b\n")
    values, lines = read_flat_yaml(text)
    assert values == {"_commit": "v1.2", "last_reviewed": "2026-01-31", "flag": "true", "empty": None,
                      "none": None, "folded": "two lines", "list": None}
    assert lines == {"_commit": 2, "last_reviewed": 3, "flag": 4, "empty": 5, "none": 6, "folded": 7, "list": 10}


@pytest.mark.parametrize("text, line", [("a: 1\nb: [unclosed\n", 3), ("a: 1\nb: c: d\n", 2), ("- just\n- a list\n", 1)])
def test_yaml_that_is_not_a_mapping_of_keys_names_the_line(text, line):
    with pytest.raises(ValueError, match=rf"^line {line}: "):
        read_flat_yaml(text)


def test_front_matter_lines_count_from_the_top_of_the_document():
    doc = parse_markdown("x.md", "---\nowner: Data\nstatus: draft\n---\n# Title\n")
    assert doc.front == {"owner": "Data", "status": "draft"}
    assert doc.front_lines == {"owner": 2, "status": 3} and doc.body_start == 4


def test_broken_front_matter_is_reported_not_raised():
    assert "never closed" in parse_markdown("x.md", "---\nowner: Data\n# Title\n").front_error
    assert "not valid YAML" in parse_markdown("x.md", "---\nowner: [x\n---\n").front_error


# ---------------------------------------------------------------------------
#  Release ordering (packaging)
# ---------------------------------------------------------------------------
def test_releases_order_by_pep440():
    tags = ["v1.10.0", "v1.9.0", "1.2.0", "v1.4.0", "main", "v2.0.0rc1", "v1.2.0-3-gabc1234", "abc1234"]
    releases = sorted((t for t in tags if versions.release_version(t)), key=versions.release_version)
    assert releases == ["1.2.0", "v1.4.0", "v1.9.0", "v1.10.0"]
    assert versions.release_version("v1.10.0") > versions.release_version("v1.9.0")


# ---------------------------------------------------------------------------
#  Conflict markers: the pre-commit hook's pattern
# ---------------------------------------------------------------------------
def test_the_hook_and_dpf_look_for_the_same_markers(rendered):
    config = yaml.safe_load((rendered / ".pre-commit-config.yaml").read_text(encoding="utf-8"))
    hooks = {hook["id"]: hook for repo in config["repos"] for hook in repo["hooks"]}
    assert hooks["conflict-markers"]["entry"] == markers.CONFLICT_PATTERN
    assert "PyYAML==6.0.3" in hooks["dpf-health"]["additional_dependencies"]


def test_conflict_markers_are_found_only_in_a_conflict():
    conflict = b"a\n<<<<<<< ours\nx\r\n||||||| base\n=======\ny\n>>>>>>> theirs\n"
    assert markers.conflict_markers(conflict) == [(2, "<<<<<<<"), (4, "|||||||"), (5, "======="), (7, ">>>>>>>")]
    assert markers.conflict_markers(b"Title\n=======\n") == []  # a setext heading, no conflict
    assert markers.conflict_markers(b"x <<<<<<< y\n") == []


# ---------------------------------------------------------------------------
#  Copier's errors
# ---------------------------------------------------------------------------
@pytest.mark.parametrize("stderr, kind, fault", [
    ("Traceback (most recent call last):\n  ...\nValueError: Invalid choice for 'orchestrator': x\n",
     "ValueError", "answers"),
    ("Traceback (most recent call last):\nValueError: Unknown revision: 'v9'\n", "ValueError", "revision"),
    ("Traceback (most recent call last):\nplumbum.commands.processes.ProcessExecutionError: git failed\n",
     "ProcessExecutionError", "other"),
    ("Destination repository is dirty; cannot continue.\n", "", "other"),
])
def test_a_copier_failure_is_read_from_its_last_line(stderr, kind, fault):
    got_kind, message = copier_run.raised(stderr)
    assert got_kind == kind
    assert copier_run.copier_fault(got_kind, message) == fault


def test_a_revision_copier_cannot_find_is_a_clear_error(template_repo, tmp_path):
    with pytest.raises(settings.DpfError, match="could not find the template revision `v0.0.9`"):
        copier_run.render_release(str(template_repo[0]), "v0.0.9", {}, tmp_path / "out")


# ---------------------------------------------------------------------------
#  The entry point
# ---------------------------------------------------------------------------
def dpf(repo: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, *args], cwd=repo, capture_output=True, text=True)


def test_without_pyyaml_dpf_says_how_to_install_it(rendered):
    run = dpf(rendered, "-S", "tools/dpf.py", "health")  # -S: no site-packages, so no PyYAML
    assert run.returncode == 2
    assert run.stderr.strip() == "dpf: error: PyYAML is not installed: python -m pip install -r tools/requirements.txt"


def test_audiences_come_from_dpf_toml(rendered):
    run = dpf(rendered, "tools/dpf.py", "add-product", "Customers", "--audience", "everyone")
    assert run.returncode == 2
    assert "invalid choice: 'everyone' (choose from 'both', 'external', 'internal')" in run.stderr
    assert not (rendered / "01_Data_Products/customers").exists()


def test_the_questions_update_accepts_leave_out_the_computed_values(template_repo, tmp_path):
    """`update --data` changes questions only: a computed value (`when: false`) is derived from them."""
    from dpf_lib.update import template_questions
    from testkit.questions import QUESTIONS, is_computed

    scratch = tmp_path / "scratch"
    scratch.mkdir()
    src, info = template_repo
    names = template_questions(str(src), info["head"], scratch)
    computed = {key for key, value in yaml.safe_load((ROOT / "copier.yml").read_text()).items()
                if isinstance(value, dict) and value.get("when") is False}
    assert computed, "copier.yml has a computed-values section"
    assert names is not None and not names & computed
    assert names == {name for name, spec in QUESTIONS.items() if not is_computed(spec)}
