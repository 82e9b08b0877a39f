"""Messages: one conversation per owner–walker pair, its messages, reads and blocks (`conversations`); declarations in `registry`."""
