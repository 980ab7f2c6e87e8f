"""More ``ganforge`` subcommands, one module per concern; each registers its command with
``@register_command()`` (``ganforge.cli``). The CLI's ``COMMANDS`` registry imports every module of this
package when it starts, so adding a subcommand is adding a file.
"""
