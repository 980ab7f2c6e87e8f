"""More ``ganforge`` subcommands, one module per concern; each registers itself on ``ganforge.cli.app``.

Every module in this package is imported when the CLI starts, so adding a subcommand needs no edit in
``cli.py``.
"""
