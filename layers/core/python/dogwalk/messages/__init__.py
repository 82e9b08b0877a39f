"""Messages: one conversation per owner and walker, its messages, reads and blocks (`conversations`);
declarations in `registry`."""
