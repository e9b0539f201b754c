"""The `flowtape` command (`cli.main`): one module per subcommand, above every other package (it may import them
all; none imports it)."""
