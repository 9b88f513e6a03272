"""pytest plugin entry point; does nothing unless ``--mesocosm`` is given."""
