"""One module per command group, in the order the root lists them."""
