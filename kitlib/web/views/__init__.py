"""Request handlers: ``api`` answers JSON (and files, feeds, bundles), ``pages`` renders HTML."""
