"""spyx-convert: the command line front end (thin over the library)."""
