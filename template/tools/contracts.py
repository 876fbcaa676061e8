#!/usr/bin/env python3
"""contracts: lint and test the machine-readable files of every data product.

Shipped by the data-product-framework Copier template as tools/contracts.py.

    python tools/contracts.py lint [FILE ...]
    python tools/contracts.py test --database FILE [--server NAME] [CONTRACT ...]

lint  checks every data-product.odps.yaml and data-contract.odcs.yaml under
      the products folder (dpf.toml; or the files given) against the official JSON schemas in
      tools/schemas/ (Open Data Product Standard v1.0.0, Open Data Contract Standard
      v3.1.0), formats included (a dateIn of 2026-13-45 is an error), then checks that
      they agree: every output port's contractId names a contract in the same product
      folder, whose dataProduct is the product's name, and every input port's contractId
      names a contract of some product (an input may be another product's output).
test  checks the tables a contract describes in a DuckDB file: every column present
      with a type of its logicalType, required columns without nulls, the primary key
      unique, and every quality rule met (rowCount, nullValues and duplicateValues
      metrics, and sql rules). Other rule kinds are listed as skipped: run
      `datacontract test` (requirements-contract-tools.txt) for the full standard.

Needs jsonschema and PyYAML (tools/requirements.txt); `test` also needs duckdb. A missing
one is named, with the command that installs it. Formats: date and email are always checked;
date-time only where rfc3339-validator is installed (jsonschema skips it otherwise).
Problems print as `path: message`; the exit code is 0 (clean), 1 (problems) or 2 (usage).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))  # dpf_lib, beside this file
from dpf_lib.settings import products_directory  # noqa: E402 - standard library only

ROOT = Path(__file__).resolve().parents[1]
SCHEMAS = Path(__file__).resolve().parent / "schemas"
PRODUCTS_DIR = ROOT / products_directory(ROOT)  # dpf.toml [products] directory
DESCRIPTOR = "data-product.odps.yaml"
CONTRACT = "data-contract.odcs.yaml"
# apiVersion -> schema file, per kind of document.
SCHEMA_FILES = {
    "DataProduct": {"v1.0.0": "odps-1.0.0.schema.json"},
    "DataContract": {"v3.1.0": "odcs-3.1.0.schema.json"},
}
# DuckDB type names (information_schema.columns.data_type) that fit each ODCS logicalType.
LOGICAL_TYPES = {
    "string": ("VARCHAR", "CHAR", "TEXT", "STRING", "UUID", "JSON"),
    "date": ("DATE",),
    "integer": ("TINYINT", "SMALLINT", "INTEGER", "BIGINT", "HUGEINT", "UTINYINT", "USMALLINT",
                "UINTEGER", "UBIGINT", "UHUGEINT"),
    "number": ("DECIMAL", "NUMERIC", "DOUBLE", "FLOAT", "REAL", "TINYINT", "SMALLINT", "INTEGER",
               "BIGINT", "HUGEINT"),
    "timestamp": ("TIMESTAMP",),
    "time": ("TIME",),
    "boolean": ("BOOLEAN",),
    "array": ("ARRAY", "LIST"),
    "object": ("STRUCT", "MAP", "JSON"),
}
COMPARISONS = {
    "mustBe": lambda v, x: v == x,
    "mustNotBe": lambda v, x: v != x,
    "mustBeGreaterThan": lambda v, x: v > x,
    "mustBeGreaterOrEqualTo": lambda v, x: v >= x,
    "mustBeGreaterThanOrEqualTo": lambda v, x: v >= x,
    "mustBeLessThan": lambda v, x: v < x,
    "mustBeLessOrEqualTo": lambda v, x: v <= x,
    "mustBeLessThanOrEqualTo": lambda v, x: v <= x,
    "mustBeBetween": lambda v, x: x[0] <= v <= x[1],
    "mustNotBeBetween": lambda v, x: not x[0] <= v <= x[1],
}


class MissingPackage(RuntimeError):
    """A package of tools/requirements.txt is not installed: not a problem of any file."""


def require(module: str, package: str | None = None):
    """Import `module`, or stop with the package to install instead of a misleading error."""
    import importlib

    try:
        return importlib.import_module(module)
    except ModuleNotFoundError as exc:
        if exc.name != module.split(".")[0]:
            raise
        hint = "requirements.txt" if module == "duckdb" else "tools/requirements.txt"
        raise MissingPackage(f"{package or module} is not installed: pip install -r {hint}") from None


def _rel(path: Path) -> str:
    try:
        return path.resolve().relative_to(ROOT).as_posix()
    except ValueError:
        return str(path)


def load_yaml(path: Path):
    """YAML as plain data: dates and times stay strings, as JSON Schema expects them."""
    yaml = require("yaml", "PyYAML")

    class Loader(yaml.SafeLoader):
        pass

    Loader.yaml_implicit_resolvers = {
        first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:timestamp"]
        for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
    }
    with Path(path).open(encoding="utf-8") as handle:
        return yaml.load(handle, Loader=Loader)  # noqa: S506 (a SafeLoader subclass)


# ---------------------------------------------------------------------------
#  lint
# ---------------------------------------------------------------------------
def schema_problems(path: Path, document) -> list[str]:
    """Problems of one descriptor or contract against its official JSON schema."""
    jsonschema = require("jsonschema")

    rel = _rel(path)
    if not isinstance(document, dict):
        return [f"{rel}: not a YAML mapping"]
    kind, version = document.get("kind"), document.get("apiVersion")
    known = SCHEMA_FILES.get(kind)
    if known is None:
        return [f"{rel}: kind must be DataProduct or DataContract, got {kind!r}"]
    if version not in known:
        return [f"{rel}: no schema for {kind} apiVersion {version!r} in tools/schemas "
                f"(known: {', '.join(sorted(known))})"]
    schema = json.loads((SCHEMAS / known[version]).read_text(encoding="utf-8"))
    cls = jsonschema.validators.validator_for(schema)
    validator = cls(schema, format_checker=cls.FORMAT_CHECKER)
    problems = []
    for error in sorted(validator.iter_errors(document), key=lambda e: list(map(str, e.absolute_path))):
        where = "/".join(map(str, error.absolute_path)) or "(top level)"
        message = error.message if len(error.message) < 300 else error.message[:297] + "..."
        problems.append(f"{rel}: {where}: {message}")
    return problems


def default_files() -> list[Path]:
    """Each product's descriptor and contract, then its other contracts (*.odcs.yaml)."""
    found = []
    for folder in sorted(p for p in PRODUCTS_DIR.glob("*") if p.is_dir()):
        found += [folder / name for name in (DESCRIPTOR, CONTRACT) if (folder / name).is_file()]
        found += sorted(p for p in folder.glob("*.odcs.yaml") if p.name != CONTRACT and p.is_file())
    return found


def contract_ids(documents: dict) -> set:
    """Ids of the contracts given plus those of every product folder (read if parsable)."""
    ids = {doc.get("id") for doc in documents.values()
           if isinstance(doc, dict) and doc.get("kind") == "DataContract"}
    for path in PRODUCTS_DIR.glob("*/*.odcs.yaml"):
        if path not in documents:
            try:
                doc = load_yaml(path)
            except MissingPackage:
                raise
            except Exception:  # its own lint reports it
                continue
            if isinstance(doc, dict):
                ids.add(doc.get("id"))
    return ids


def lint(paths: list[Path]) -> list[str]:
    problems: list[str] = []
    documents: dict[Path, object] = {}
    for path in paths:
        try:
            documents[path] = load_yaml(path)
        except MissingPackage:
            raise
        except Exception as exc:  # a YAML error names its own line and column
            problems.append(f"{_rel(path)}: not valid YAML: {exc}".replace("\n", " "))
            continue
        problems += schema_problems(path, documents[path])
    # Cross-checks inside each product folder.
    for path, product in documents.items():
        if not (isinstance(product, dict) and product.get("kind") == "DataProduct"):
            continue
        contracts = {
            doc.get("id"): (other, doc) for other, doc in documents.items()
            if other.parent == path.parent and isinstance(doc, dict) and doc.get("kind") == "DataContract"
        }
        if not contracts and (path.parent / CONTRACT).is_file():
            contract = load_yaml(path.parent / CONTRACT)
            if isinstance(contract, dict):
                contracts = {contract.get("id"): (path.parent / CONTRACT, contract)}
        for port in product.get("outputPorts") or []:
            if not isinstance(port, dict) or not port.get("contractId"):
                continue
            if port["contractId"] not in contracts:
                problems.append(f"{_rel(path)}: output port {port.get('name')!r} names contract "
                                f"{port['contractId']!r}, which no contract in {_rel(path.parent)} has as id")
                continue
            other, contract = contracts[port["contractId"]]
            if contract.get("dataProduct") not in (None, product.get("name"), product.get("id")):
                problems.append(f"{_rel(other)}: dataProduct is {contract.get('dataProduct')!r}, but the "
                                f"product in {DESCRIPTOR} is named {product.get('name')!r}")
        inputs = [port for port in product.get("inputPorts") or []
                  if isinstance(port, dict) and port.get("contractId")]
        known = contract_ids(documents) if inputs else set()
        for port in inputs:
            if port["contractId"] not in known:
                problems.append(f"{_rel(path)}: input port {port.get('name')!r} names contract "
                                f"{port['contractId']!r}, which no contract under {_rel(PRODUCTS_DIR)} "
                                "has as id")
    return problems


# ---------------------------------------------------------------------------
#  test
# ---------------------------------------------------------------------------
def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def pick_server(contract: dict, name: str | None) -> dict:
    servers = contract.get("servers") or []
    for server in servers:
        if (name and server.get("server") == name) or (not name and server.get("type") == "duckdb"):
            return server
    wanted = f"server {name!r}" if name else "a server of type duckdb"
    raise LookupError(f"the contract lists no {wanted}")


def _check(rule: dict, value) -> str | None:
    """None when `value` meets every comparison of the rule, else what it broke."""
    for key, test in COMPARISONS.items():
        if key in rule and not test(value, rule[key]):
            return f"{key} {rule[key]!r}, got {value!r}"
    return None


def test_contract(contract_path: Path, database: Path, server: str | None = None) -> list[str]:
    """Failures of the tables in `database` against the contract (empty: it holds)."""
    duckdb = require("duckdb")

    contract_path = Path(contract_path)
    rel = _rel(contract_path)
    contract = load_yaml(contract_path)
    try:
        schema = pick_server(contract, server).get("schema", "main")
    except LookupError as exc:
        return [f"{rel}: {exc}"]
    if not Path(database).is_file():
        return [f"{rel}: no database at {database}; build it first (make run)"]
    failures: list[str] = []
    with duckdb.connect(str(database), read_only=True) as con:
        for obj in contract.get("schema") or []:
            table = obj.get("physicalName") or obj["name"]
            fq = f"{_quote(schema)}.{_quote(table)}"
            where = f"{rel}: {schema}.{table}"
            columns = dict(con.execute(
                "select column_name, data_type from information_schema.columns "
                "where table_schema = ? and table_name = ?", [schema, table]).fetchall())
            if not columns:
                failures.append(f"{where}: no such table or view in {database}")
                continue

            def scalar(sql: str, column: str | None = None):
                sql = sql.replace("${object}", fq).replace("{object}", fq)
                if column:
                    sql = sql.replace("${property}", _quote(column)).replace("{property}", _quote(column))
                return con.execute(sql).fetchone()[0]

            def run_rules(rules, column: str | None = None) -> None:
                label = f"{where}.{column}" if column else where
                for rule in rules or []:
                    about = rule.get("description") or rule.get("name") or rule.get("metric") or rule.get("type")
                    kind = rule.get("type", "library")
                    if kind == "sql":
                        value = scalar(rule["query"], column)
                    elif kind == "library" and rule.get("metric") == "rowCount":
                        value = scalar(f"select count(*) from {fq}")
                    elif kind == "library" and rule.get("metric") == "nullValues" and column:
                        value = scalar(f"select count(*) from {fq} where {_quote(column)} is null")
                    elif kind == "library" and rule.get("metric") == "duplicateValues" and column:
                        value = scalar(f"select count(*) - count(distinct {_quote(column)}) from {fq} "
                                       f"where {_quote(column)} is not null")
                    else:
                        print(f"{label}: skipped {kind} rule {about!r} (not supported here; "
                              "datacontract test checks it)", file=sys.stderr)
                        continue
                    broken = _check(rule, value)
                    if broken:
                        failures.append(f"{label}: {about}: {broken}")

            key = []
            for prop in obj.get("properties") or []:
                name = prop["name"]
                if name not in columns:
                    failures.append(f"{where}: column {name} is missing")
                    continue
                logical = prop.get("logicalType")
                actual = columns[name].upper()
                if logical in LOGICAL_TYPES and not actual.startswith(LOGICAL_TYPES[logical]):
                    failures.append(f"{where}.{name}: type {actual} does not hold logicalType {logical}")
                if prop.get("required") and scalar(f"select count(*) from {fq} where {_quote(name)} is null"):
                    failures.append(f"{where}.{name}: required, but has null values")
                if prop.get("unique") and scalar(
                        f"select count(*) - count(distinct {_quote(name)}) from {fq}"):
                    failures.append(f"{where}.{name}: unique, but has duplicate values")
                if prop.get("primaryKey"):
                    key.append((prop.get("primaryKeyPosition", len(key) + 1), name))
                run_rules(prop.get("quality"), name)
            if key:
                names = ", ".join(_quote(name) for _, name in sorted(key))
                duplicates = scalar(f"select count(*) from (select {names} from {fq} "
                                    f"group by {names} having count(*) > 1) as duplicates")
                if duplicates:
                    failures.append(f"{where}: primary key ({names}) has {duplicates} duplicated value(s)")
            run_rules(obj.get("quality"))
    return failures


# ---------------------------------------------------------------------------
#  command line
# ---------------------------------------------------------------------------
def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="contracts.py", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    lint_cmd = sub.add_parser("lint", help="check descriptors and contracts against the official schemas")
    lint_cmd.add_argument("files", nargs="*", type=Path)
    test_cmd = sub.add_parser("test", help="check built tables in a DuckDB file against contracts")
    test_cmd.add_argument("--database", type=Path, required=True)
    test_cmd.add_argument("--server", help="server of the contract to read the schema from (default: "
                                           "the first of type duckdb)")
    test_cmd.add_argument("contracts", nargs="*", type=Path)
    args = parser.parse_args(argv)
    try:
        return run(args)
    except MissingPackage as exc:
        print(f"contracts.py: {exc}", file=sys.stderr)
        return 2


def run(args: argparse.Namespace) -> int:
    if args.command == "lint":
        files = args.files or default_files()
        if not files:
            print(f"no {DESCRIPTOR} or {CONTRACT} under {_rel(PRODUCTS_DIR)}", file=sys.stderr)
            return 1
        problems = lint(files)
        checked = f"{len(files)} file(s)"
    else:
        files = args.contracts or [p for p in default_files() if p.name.endswith(".odcs.yaml")]
        problems = []
        for path in files:
            problems += test_contract(path, args.database, args.server)
        checked = f"{len(files)} contract(s) against {args.database}"
    for problem in problems:
        print(problem)
    print(f"{len(problems)} problem(s) in {checked}", file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
