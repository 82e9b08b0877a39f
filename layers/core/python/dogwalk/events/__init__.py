"""Domain events: the transactional outbox (`outbox`: recorded in the transaction of what happened)
and its relay to the events topic (`relay`: right after the commit, and a sweep for what was
missed). Services record events here; the notifications service consumes them."""
