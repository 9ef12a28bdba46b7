"""Files `hybrid-trm domain new` writes: a working domain to start from."""
