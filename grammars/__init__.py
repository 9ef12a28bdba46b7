"""Lark grammars of the built-in domains, one .lark file each (installed as hybrid_trm.grammars)."""
