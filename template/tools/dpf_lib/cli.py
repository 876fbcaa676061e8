"""The command line of tools/dpf.py."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from .health import cmd_health
from .products import cmd_add_product, cmd_index
from .settings import DpfError, find_root, load_config
from .update import cmd_update


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="dpf", description="Keep a Data Product Framework repository healthy.")
    parser.add_argument("--root", type=Path, help="repository root (default: found from the current directory)")
    sub = parser.add_subparsers(dest="command", required=True)
    health = sub.add_parser("health", help="check documents, links, markers and the product index")
    health.add_argument("--json", action="store_true", help="print the findings as JSON")
    index = sub.add_parser("index", help="regenerate the product table in the product index")
    index.add_argument("--check", action="store_true", help="only report; exit 1 if it is out of date")
    add = sub.add_parser("add-product", help="render one more product folder with Copier")
    add.add_argument("name", help='human name of the product, e.g. "Customers"')
    add.add_argument("--slug", help="folder name in the products folder (default: derived from the name)")
    add.add_argument("--purpose", help="one sentence on what the product does and for whom")
    add.add_argument("--audience", help="who consumes its outputs (one of the audiences in dpf.toml)")
    update = sub.add_parser("update", help="check the answers file, then run Renovate's `copier update`")
    update.add_argument("--to", metavar="REF", help="release to update to (default: the latest)")
    update.add_argument("--product", metavar="SLUG", help="update this product folder's own answers file")
    update.add_argument("--trust", action="store_true",
                        help="allow the release's migration to run (only releases whose CHANGELOG says so)")
    update.add_argument("--data", action="append", metavar="KEY=VALUE",
                        help="change an answer safely (files the new answer no longer renders are kept "
                             "when your team edited or created them); repeat for several")
    docs = sub.add_parser("check-docs", help="run the examples of the documents against this repository "
                          "(tools/check_docs.py; make check-docs builds the warehouse first)")
    check_docs = import_check_docs()
    if check_docs is not None:
        check_docs.add_options(docs, root=False)
    for p in (health, index, add, update, docs):  # accept --root after the subcommand too
        p.add_argument("--root", type=Path, default=argparse.SUPPRESS, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    for stream in (sys.stdout, sys.stderr):  # a team's non-UTF-8 bytes are shown, never a crash
        if hasattr(stream, "reconfigure"):
            stream.reconfigure(errors="backslashreplace")
    try:
        root = find_root(args.root, script_repo=Path(__file__).resolve().parents[2])
        config = load_config(root)
        if args.command == "add-product" and args.audience is not None \
                and args.audience not in config.audience_labels:
            choices = ", ".join(repr(a) for a in sorted(config.audience_labels))
            add.error(f"argument --audience: invalid choice: {args.audience!r} (choose from {choices})")
        for note in config.notes:
            print(f"note: {note}", file=sys.stderr)
        if args.command == "health":
            return cmd_health(root, config, args.json)
        if args.command == "index":
            return cmd_index(root, config, args.check)
        if args.command == "check-docs":
            if check_docs is None:
                raise DpfError("tools/check_docs.py is missing: check-docs needs it beside dpf.py")
            args.root = root
            return check_docs.run(args)
        if args.command == "update":
            return cmd_update(root, config, args.to, args.product, args.trust, args.data)
        return cmd_add_product(root, config, args.name, args.slug, args.purpose, args.audience)
    except DpfError as exc:
        print(f"dpf: error: {exc}", file=sys.stderr)
        return 2




def import_check_docs():
    """tools/check_docs.py, which stays runnable alone (None when a team removed it)."""
    try:
        import check_docs  # tools/ is on sys.path: dpf.py puts it there
    except ModuleNotFoundError as exc:
        if exc.name != "check_docs":
            raise
        return None
    return check_docs
