"""The code behind tools/dpf.py, split by what it does:

settings    dpf.toml (tomllib), the answers file, where the repository is
markdown    front-matter (PyYAML), headings, anchors, links
markers     merge conflict markers (the pre-commit hook's pattern)
gitrepo     git plumbing
health      `dpf.py health`
products    product folders, `dpf.py index`, `dpf.py add-product`
copier_run  Copier: its API where importable, else the `copier` on PATH
versions    release ordering (packaging)
update      `dpf.py update`, the journaled bring-in
cli         the command line
"""
