"""One corpus of bad answers: what copier.yml's validators must refuse, with the message the
user must see, and hostile values that must come out literally. tests/test_validators.py
shows one value per message; tests/reliability/test_hostile_answers.py tries them all.

Each entry: (kind, question, value, expected), expected "reject:<part of the message>",
LITERAL (rendered as written) or EITHER (refused or literal, both fine)."""

from __future__ import annotations

LITERAL = "literal"
EITHER = "either"  # refused or literal, both fine
SENTINEL = "/tmp/dpf-hostile-sentinel"

BAD_ANSWERS: list[tuple[str, str, object, str]] = [
    # (kind, question, value, expected: "reject:<part of the message>" | LITERAL | EITHER)
    # path traversal and absolute paths
    ("path", "product_slug", "../../outside", "reject:one safe folder name"),
    ("path", "project_slug", "../escape", "reject:one safe folder name"),
    ("path", "product_slug", SENTINEL, "reject:one safe folder name"),
    ("path", "product_slug", "..\\..\\windows", "reject:one safe folder name"),
    ("path", "product_slug", "orders/../../../x", "reject:one safe folder name"),
    ("path", "product_slug", "orders\n", "reject:one safe folder name"),
    ("path", "product_name", "../../../etc/passwd", "reject:must start with a letter or digit"),
    ("path", "product_name", "a/../../etc/passwd", LITERAL),
    ("path", "project_name", "C:\\Windows\\System32", "reject:must start with a letter or digit"),
    ("path", "team_name", "~root/.ssh", "reject:must start with a letter or digit"),
    ("path", "product_slug", "con", LITERAL),
    # Jinja
    ("jinja", "project_name", "{{ 7 * 7 }}", "reject:must start with a letter or digit"),
    ("jinja", "product_name", "A {% include '/etc/passwd' %}", "reject:must start with a letter or digit"),
    ("jinja", "product_purpose", "Uses {{ cycler.__init__.__globals__.os.popen('id').read() }} now",
     "reject:plain prose"),
    ("jinja", "team_name", "Data {# comment #}", "reject:must start with a letter or digit"),
    ("jinja", "product_purpose", "Percent-curly %} and hash-curly #} tokens", "reject:plain prose"),
    # YAML
    ("yaml", "team_name", "null", LITERAL),
    ("yaml", "project_name", "yes", LITERAL),
    ("yaml", "product_name", "2026-01-01", LITERAL),
    ("yaml", "team_email", "a.b@example.co", LITERAL),
    ("yaml", "project_slug", "0x1f", LITERAL),
    ("yaml", "product_purpose", "key: value # comment - list: [1, 2] &anchor *ref !!python/object", LITERAL),
    ("yaml", "product_purpose", "--- a document separator, then ... the end marker", LITERAL),
    ("yaml", "team_name", "O'Neil: & Co (EU)/DE", LITERAL),
    ("yaml", "product_purpose", "\"Double\" and 'single' quotes: both kinds in one purpose", LITERAL),
    # control characters and NUL
    ("control", "team_name", "Data\x00Team", "reject:control or invisible"),
    ("control", "product_purpose", "Tab\tseparated purpose of the product", "reject:control or invisible"),
    ("control", "project_name", "Acme\rAnalytics", "reject:control or invisible"),
    ("control", "product_purpose", "ANSI \x1b[31mred\x1b[0m purpose text", "reject:control or invisible"),
    ("control", "project_name", "Acme\u2028Analytics", "reject:control or invisible"),
    ("control", "product_purpose", "Lone surrogate \ud800 in the purpose text", "reject:control or invisible"),
    # 10 kB strings
    ("10kB", "project_name", "x" * 10240, "reject:keep it to 60 or fewer"),
    ("10kB", "product_purpose", "y" * 10240, "reject:at most 200 characters"),
    ("10kB", "team_email", "a" * 10240 + "@example.com", "reject:at most 254"),
    ("10kB", "product_slug", "a" * 10240, "reject:keep it to 40 or fewer"),
    ("10kB", "created_on", "2" * 10240, "reject:YYYY-MM-DD"),
    # right-to-left and combining Unicode
    ("unicode", "product_name", "Orders\u202e", "reject:control or invisible"),
    ("unicode", "product_purpose", "Purpose with RLO \u202e reversed text inside", "reject:control or invisible"),
    ("unicode", "product_purpose", "Arabic letter mark \u061c inside the purpose", "reject:control or invisible"),
    ("unicode", "product_purpose", "Zero\u200bwidth space inside the purpose text", "reject:control or invisible"),
    ("unicode", "product_name", "הזמנות", LITERAL),
    ("unicode", "team_name", "فريق البيانات", LITERAL),
    ("unicode", "project_name", "Cafe\u0301 Analytics", "reject:must start with a letter or digit"),
    ("unicode", "product_purpose", "Zalgo t\u0336\u0337e\u0338xt for planners and analysts", LITERAL),
    ("unicode", "project_name", "Ｆｕｌｌｗｉｄｔｈ Analytics", LITERAL),
    # e-mail look-alikes
    ("email", "team_email", "data@ex\u0430mple.com", "reject:one e-mail address"),
    ("email", "team_email", "data@example.com\n", "reject:one e-mail address"),
    ("email", "team_email", "data@example.com, boss@example.com", "reject:one e-mail address"),
    ("email", "team_email", "Data Team <data@example.com>", "reject:one e-mail address"),
    ("email", "team_email", "mailto:data@example.com", "reject:one e-mail address"),
    ("email", "team_email", "data@example..com", "reject:one e-mail address"),
    ("email", "team_email", "data@localhost", "reject:one e-mail address"),
    ("email", "team_email", "\"quoted\"@example.com", "reject:one e-mail address"),
    ("email", "team_email", "data@[127.0.0.1]", "reject:one e-mail address"),
    ("email", "team_email", "data%evil.com@example.com", LITERAL),
    # choices
    ("choice", "orchestrator", "../../etc", "reject:Invalid choice"),
    ("choice", "scope", "product/../..", "reject:Invalid choice"),
    ("choice", "warehouse", "duckdb; rm -rf /", "reject:Invalid choice"),
    # dates
    ("date", "created_on", "2026-02-30", "reject:real calendar date"),
    ("date", "created_on", "2099-12-31", "reject:must not be in the future"),
    ("date", "created_on", "2026-01-15\n", "reject:YYYY-MM-DD"),
    # copier.yml's own quarter validator ends in `$`, which also accepts a final new line.
    ("date", "roadmap_start_quarter", "2026-Q1\n", EITHER),
    # Markdown and shells
    ("markdown", "product_purpose", "See [the spec](../../../etc/passwd) before building.", "reject:Markdown links"),
    ("markdown", "product_purpose", "# Heading injection and *emphasis* and _underscores_", LITERAL),
    ("markdown", "product_purpose", "<<<<<<< HEAD conflict marker look-alike", "reject:plain prose"),
    ("markdown", "product_purpose", "======= seven equals, then some words", LITERAL),
    ("shell", "product_purpose", "$(rm -rf ~) and `id` in the purpose", "reject:plain prose"),
    ("shell", "product_purpose", f"$(touch {SENTINEL}) then more words", LITERAL),
    ("shell", "project_name", "Robert'); DROP TABLE students;--", "reject:must start with a letter or digit"),
    # adopted_paths (a list; scripts/adopt.py fills it): paths the template must never write
    ("path", "adopted_paths", ["../../etc/passwd"], "reject:below the repository root"),
    ("path", "adopted_paths", ["/etc/passwd"], "reject:not absolute"),
    ("path", "adopted_paths", ["C:/Windows/win.ini"], "reject:not absolute"),
    ("path", "adopted_paths", ["README.md\n"], "reject:without control characters"),
    ("path", "adopted_paths", ["*"], "reject:are not accepted"),
    ("yaml", "adopted_paths", "README.md", "reject:must be a list"),
    # emptiness
    ("empty", "project_name", "", "reject:must not be empty"),
    ("empty", "team_name", "   ", "reject:must not be empty"),
    ("empty", "product_purpose", " " * 12, "reject:too short"),
    # One per rule of copier.yml's validators (tests/test_validators.py shows each message)
    ("length", "project_name", "x" * 61, "reject:keep it to 60 or fewer"),
    ("control", "project_name", "Acme\nAnalytics", "reject:control or invisible"),
    ("spaces", "project_name", " Acme", "reject:must not start or end with a space"),
    ("path", "project_slug", "/dpf-escape", "reject:one safe folder name"),
    ("path", "product_slug", "..", "reject:one safe folder name"),
    ("path", "product_slug", ".hidden", "reject:one safe folder name"),
    ("format", "product_slug", "Orders", "reject:one safe folder name"),
    ("path", "product_slug", "a/b", "reject:one safe folder name"),
    ("format", "product_slug", "has space", "reject:one safe folder name"),
    ("length", "product_slug", "a" * 41, "reject:keep it to 40 or fewer"),
    ("length", "product_purpose", "short", "reject:too short"),
    ("jinja", "product_purpose", "Uses {% raw %} to break things in templates", "reject:plain prose"),
    ("control", "product_purpose", "two\nlines of purpose text here", "reject:single line"),
    ("length", "product_purpose", "y" * 201, "reject:at most 200 characters"),
    ("control", "team_name", "x\x00y", "reject:control or invisible"),
    ("email", "team_email", "not-an-email", "reject:one e-mail address"),
    ("email", "team_email", "a@b", "reject:one e-mail address"),
    ("email", "team_email", "data@@example.com", "reject:one e-mail address"),
    ("date", "roadmap_start_quarter", "2026-Q5", "reject:must look like 2026-Q3"),
    ("date", "roadmap_start_quarter", "Q1 2026", "reject:must look like 2026-Q3"),
    ("date", "created_on", "26/11/2026", "reject:YYYY-MM-DD"),
    ("date", "created_on", "2026-13-01", "reject:YYYY-MM-DD"),
]


REFUSED = [entry for entry in BAD_ANSWERS if entry[3].startswith("reject:")]


def one_per_message(entries=REFUSED) -> list[tuple[str, str, object, str]]:
    """The first value of each (question, message) pair: every validator message once."""
    seen, chosen = set(), []
    for entry in entries:
        if (entry[1], entry[3]) not in seen:
            seen.add((entry[1], entry[3]))
            chosen.append(entry)
    return chosen
