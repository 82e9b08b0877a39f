"""The marketplace: owners and their dogs (`dogs`), walkers with their profiles, availability,
time off and verification (`walkers`), and the search that matches them (`search`); its
declarations in `registry`."""
