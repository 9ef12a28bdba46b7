"""`python -m hybrid_trm ...` is the `hybrid-trm` command (so torchrun can launch it)."""

from hybrid_trm.cli.main import main

if __name__ == "__main__":
    main()
