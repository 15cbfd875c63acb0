"""Images in prompts: checking and normalising what voters attach (pure Pillow, no I/O)."""
